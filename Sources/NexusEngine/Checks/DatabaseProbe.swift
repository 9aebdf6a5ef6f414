import Foundation
import NexusCore
import NexusPostgres

/// The database's answers to `hosts check`: its version and whether WAL archiving is on.
public struct DatabaseProbe: Sendable {
  public var text: String
  public var failed: Bool

  public static func run(_ database: DatabaseSpec) async -> DatabaseProbe {
    do {
      let (target, version, settings, archiver) = try await PGConnection.with(conninfo: database.conninfo()) {
        connection in
        (
          connection.target, try await connection.serverVersion(),
          try await connection.query(
            "SELECT current_setting('archive_mode') AS mode, current_setting('archive_command') AS command"),
          try await connection.query(
            "SELECT archived_count, failed_count, last_archived_time::text AS last_archived, last_failed_time::text AS last_failed FROM pg_stat_archiver"
          ).first
        )
      }
      let mode = try settings.first?.decode(String.self, "mode") ?? "?"
      let command = try settings.first?.decode(String.self, "command") ?? ""
      let archiving = mode != "off" && !command.isEmpty && command != "(disabled)"
      var lines = [
        "Database: \(target)",
        "  PostgreSQL \(version)",
        "  WAL archiving: \(archiving ? "on" : "OFF") (archive_mode=\(mode), archive_command=\(command.isEmpty ? "(empty)" : command))",
      ]
      if let archiver {
        lines.append(
          "  archiver: \(archiver["archived_count"] ?? "0") archived, last \(archiver["last_archived"] ?? "never"); \(archiver["failed_count"] ?? "0") failed, last \(archiver["last_failed"] ?? "never")"
        )
      }
      return DatabaseProbe(text: lines.joined(separator: "\n"), failed: false)
    } catch {
      return DatabaseProbe(text: "Database: FAILED\n  \(error)", failed: true)
    }
  }
}
