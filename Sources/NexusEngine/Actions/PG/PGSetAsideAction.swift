import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `pg.set-aside`: keeps the damaged database instead of dropping it — renamed
/// to `NAME_corrupt_YYYYMMDDTHHMMSS` after its sessions are ended. Nothing is
/// ever dropped here; removing the copy later is a separate, confirmed step.
/// Safe to repeat: when the database is already gone and an aside copy exists,
/// that copy is reported.
public struct PGSetAsideAction: StepAction {
  public static let name = "pg.set-aside"
  public static let hostUse = HostUse.forbidden
  public static let naturallyIdempotent = true

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {}

  public var declaredOutputs: Set<String>? { ["aside", "owner"] }

  public func plan(_ context: PlanContext) -> [String] {
    let name = context.values.environment["database.name"] ?? "nexus"
    return [
      "end the sessions on \(name); ALTER DATABASE \(name) RENAME TO \(name)_corrupt_<timestamp> (kept, not dropped)"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database else {
      throw StepFailure(.failed, "no database in the inventory")
    }
    return try await PGSession.run(
      database.conninfo(database: "postgres"), cannotConnect: "cannot connect to the server's postgres database",
      failed: "setting \(database.name) aside failed"
    ) { connection in
      let present = try await connection.query(
        "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = \(database.name)"
      ).first
      guard let owner = present.flatMap({ $0["owner"] }) else {
        let asides = try await connection.query(
          "SELECT datname FROM pg_database WHERE datname LIKE \(database.name + "\\_corrupt\\_%") ORDER BY datname DESC"
        )
        guard let aside = asides.first?["datname"] else {
          throw StepFailure(
            .failed, "there is no database '\(database.name)' and no copy set aside: nothing to keep; check the server")
        }
        context.console.line("    \(database.name) is already set aside as \(aside)")
        return StepResult(outputs: ["aside": aside, "owner": ""])
      }
      let stamp = JournalTime.compact(Date())
      let aside = "\(database.name)_corrupt_\(stamp)".lowercased()
      // No new sessions, then end the existing ones, then rename (which needs none).
      try await connection.query("ALTER DATABASE \(identifier: database.name) ALLOW_CONNECTIONS false")
      try await connection.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database.name) AND pid <> pg_backend_pid()"
      )
      try await connection.query("ALTER DATABASE \(identifier: database.name) RENAME TO \(identifier: aside)")
      try await connection.query(
        "COMMENT ON DATABASE \(identifier: aside) IS \(literal: "set aside by nexus-dr corrupt-db at \(JournalTime.format(Date())); remove only after the restore is verified")"
      )
      context.console.line("    \(database.name) renamed to \(aside) (kept; connections disabled)")
      return StepResult(outputs: ["aside": aside, "owner": owner])
    }
  }
}
