import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `pg.verify`'s result: what was checked against the dump's manifest, what
/// differed, how long each part took. Written as JSON to `restore-test/`.
public struct RestoreVerification: Codable, Sendable {
  public struct Difference: Codable, Sendable {
    public var table: String
    public var expected: Int64?
    public var found: Int64?
  }

  public var passed: Bool
  public var dump: String
  /// The dump's size: with `timings_ms.restore`, the measured restore rate behind corrupt-db's estimates.
  public var dumpBytes: Int64?
  public var database: String
  public var startedAt: String
  public var finishedAt: String
  public var checksumMatches: Bool
  public var tablesChecked: Int
  public var rowsChecked: Int64
  public var differences: [Difference]
  public var amcheckClean: Bool?
  public var amcheckOutput: String?
  public var stagingIntact: Bool?
  public var timingsMs: [String: Int64]
  public var problems: [String]

  enum CodingKeys: String, CodingKey {
    case passed, dump, database, differences, problems
    case dumpBytes = "dump_bytes"
    case startedAt = "started_at"
    case finishedAt = "finished_at"
    case checksumMatches = "checksum_matches"
    case tablesChecked = "tables_checked"
    case rowsChecked = "rows_checked"
    case amcheckClean = "amcheck_clean"
    case amcheckOutput = "amcheck_output"
    case stagingIntact = "staging_intact"
    case timingsMs = "timings_ms"
  }

  func encoded() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
  }

  /// Exact counts of every user table (`schema.table` → rows).
  static func countAll(connection: PGConnection) async throws -> [String: Int64] {
    var counts: [String: Int64] = [:]
    for table in try await userTables(connection) {
      let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
      counts[table] = try await connection.query(
        "SELECT count(*) AS n FROM \(identifier: parts[0]).\(identifier: parts[1])"
      ).first?.decode(Int64.self, "n")
    }
    return counts
  }

  static func userTables(_ connection: PGConnection) async throws -> [String] {
    try await connection.query(
      """
      SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      """
    ).rows.compactMap { $0["name"] }
  }

  /// Exact counts of every table the manifest lists, in `database`, against the manifest.
  static func compareCounts(_ manifest: DumpManifest, connection: PGConnection) async throws -> [Difference] {
    var differences: [Difference] = []
    let present = try await userTables(connection)
    for (table, expected) in manifest.tables.sorted(by: { $0.key < $1.key }) {
      guard present.contains(table) else {
        differences.append(Difference(table: table, expected: expected, found: nil))
        continue
      }
      let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
      let found = try await connection.query(
        "SELECT count(*) AS n FROM \(identifier: parts[0]).\(identifier: parts[1])"
      ).first?.decode(Int64.self, "n")
      if found != expected { differences.append(Difference(table: table, expected: expected, found: found)) }
    }
    for table in present where manifest.tables[table] == nil {
      differences.append(Difference(table: table, expected: nil, found: nil))
    }
    return differences
  }
}
