import Foundation

/// `nexus_YYYYMMDD.manifest.json`, beside each dump. A dump without its manifest,
/// or whose size does not match it, is not a valid backup.
public struct DumpManifest: Codable, Sendable, Equatable {
  public static let currentFormat = 1

  public var format: Int
  public var database: String
  public var file: String
  public var sizeBytes: Int64
  public var sha256: String
  /// Exact row counts of every table, `schema.table` → rows, counted in the dump's own snapshot.
  public var tables: [String: Int64]
  public var totalRows: Int64
  public var snapshot: String
  /// The WAL position when the snapshot was taken.
  public var walLSN: String
  public var startedAt: String
  public var finishedAt: String
  public var durationMs: Int64
  public var serverVersion: String
  public var pgDumpVersion: String
  public var compression: Int
  /// How the dump was checked before it counted as valid.
  public var verifiedWith: String
  public var host: String
  /// The cluster's roles and tablespaces (`pg_dumpall --globals-only`), beside the dump:
  /// a new server gets its roles back from the same night. Absent in older manifests.
  public var globals: Globals?

  public struct Globals: Codable, Sendable, Equatable {
    public var file: String
    public var sizeBytes: Int64
    public var sha256: String
    /// Whether the roles' password hashes are in it (`database.globals_passwords`).
    public var passwords: Bool

    enum CodingKeys: String, CodingKey {
      case file, sha256, passwords
      case sizeBytes = "size_bytes"
    }
  }

  enum CodingKeys: String, CodingKey {
    case format, database, file, tables, snapshot, compression, host, globals
    case sizeBytes = "size_bytes"
    case sha256
    case totalRows = "total_rows"
    case walLSN = "wal_lsn"
    case startedAt = "started_at"
    case finishedAt = "finished_at"
    case durationMs = "duration_ms"
    case serverVersion = "server_version"
    case pgDumpVersion = "pg_dump_version"
    case verifiedWith = "verified_with"
  }

  public func encoded() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
  }

  public static func decode(_ data: Data) throws -> DumpManifest {
    try JSONDecoder().decode(DumpManifest.self, from: data)
  }

  /// `nexus_20261127.dump` → `nexus_20261127.globals.sql`.
  public static func globalsName(forDump dump: String) -> String {
    dump.hasSuffix(".dump") ? String(dump.dropLast(5)) + ".globals.sql" : dump + ".globals.sql"
  }

  /// `nexus_20261127.dump` → `nexus_20261127.manifest.json`.
  public static func name(forDump dump: String) -> String {
    dump.hasSuffix(".dump") ? String(dump.dropLast(5)) + ".manifest.json" : dump + ".manifest.json"
  }
}
