import Foundation
import NexusCore
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

/// A logical restore keeps what belongs to the database itself: its grants and settings.
extension LabSuites.CorruptDBLabTests {
  /// The database's ACL items (as a set: their order may differ) and its settings, per role.
  func properties(_ connection: PGConnection) async throws -> (acl: Set<String>, settings: [String]) {
    let acl =
      try await connection.query("SELECT coalesce(datacl::text, '') AS a FROM pg_database WHERE datname = 'nexus'")
      .first?["a"] ?? ""
    let items = Set(acl.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").map(String.init))
    let settings = try await connection.query(
      """
      SELECT coalesce(r.rolname, '(all)') || ': ' || s.setconfig::text AS s FROM pg_db_role_setting s
      LEFT JOIN pg_roles r ON r.oid = s.setrole WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = 'nexus') ORDER BY 1
      """
    ).rows.compactMap { $0["s"] }
    return (items, settings)
  }

  @Test(
    "a logical restore keeps the database's grants and settings (ALTER DATABASE … SET, per role), as the dump holds them"
  )
  func logicalRestoreKeepsDatabaseProperties() async throws {
    try await dropAsides()
    let before = try await PGConnection.with(conninfo: try lab.conninfo(database: "postgres")) { postgres in
      for statement in [
        "REVOKE TEMPORARY ON DATABASE nexus FROM PUBLIC",
        "ALTER DATABASE nexus SET work_mem = '7MB'",
        "ALTER ROLE nexus_app IN DATABASE nexus SET statement_timeout = '45s'",
      ] {
        try await postgres.query(PGQuery(unsafeSQL: statement))
      }
      return try await properties(postgres)
    }
    #expect(
      before.settings.count == 2 && before.acl.contains { $0.hasPrefix("=c/") },
      "PUBLIC may connect but not create temporary tables: \(before)")
    let nightly = try await CLIProcess.run(["routine", "nightly"] + common)
    #expect(nightly.status == 0, "\(nightly.output)")

    let run = try await CLIProcess.run(["corrupt-db", "--answers", try answers()] + common)
    #expect(run.status == 0, "\(run.output)")
    #expect(run.output.contains("the database's own grants and settings from the dump:"), "\(run.output)")
    try await PGConnection.with(conninfo: try lab.conninfo(database: "postgres")) { postgres in
      let after = try await properties(postgres)
      #expect(after.acl == before.acl, "grants: before \(before.acl), after \(after.acl)")
      #expect(after.settings == before.settings, "settings: before \(before.settings), after \(after.settings)")
      for statement in [
        "ALTER DATABASE nexus RESET work_mem", "ALTER ROLE nexus_app IN DATABASE nexus RESET statement_timeout",
        "GRANT TEMPORARY ON DATABASE nexus TO PUBLIC",
      ] {
        try await postgres.query(PGQuery(unsafeSQL: statement))
      }
    }
    try await dropAsides()
  }
}
