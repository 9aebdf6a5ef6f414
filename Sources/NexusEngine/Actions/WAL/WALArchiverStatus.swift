import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// `pg_stat_archiver`, read over libpq.
public struct WALArchiverStatus: Sendable, Codable {
  public var archivedCount: Int64
  public var failedCount: Int64
  public var lastArchivedWAL: String?
  public var lastArchivedAt: String?
  public var lastFailedAt: String?
  /// Seconds since the last successful archive.
  public var lagSeconds: Double?
  /// The last attempt failed (a failure newer than the last success).
  public var failing: Bool

  public var summary: String {
    "archived \(archivedCount) (last \(lastArchivedWAL ?? "none")\(lagSeconds.map { ", \(Int($0)) s ago" } ?? "")), failed \(failedCount)\(failing ? " — FAILING NOW" : "")"
  }

  public static func read(_ database: DatabaseSpec) async throws -> WALArchiverStatus {
    let row = try await PGConnection.with(conninfo: database.conninfo()) { connection in
      try await connection.query(
        """
        SELECT archived_count, failed_count, last_archived_wal, last_archived_time::text AS archived_at,
               last_failed_time::text AS failed_at,
               extract(epoch FROM now() - last_archived_time)::float8 AS lag,
               coalesce(last_failed_time > coalesce(last_archived_time, 'epoch'), false) AS failing
        FROM pg_stat_archiver
        """
      ).first
    }
    guard let row else { throw PGError(.queryFailed, message: "pg_stat_archiver returned nothing") }
    return WALArchiverStatus(
      archivedCount: try row.decode(Int64.self, "archived_count"),
      failedCount: try row.decode(Int64.self, "failed_count"),
      lastArchivedWAL: row["last_archived_wal"], lastArchivedAt: row["archived_at"], lastFailedAt: row["failed_at"],
      lagSeconds: try row.decodeIfPresent(Double.self, "lag"), failing: try row.decode(Bool.self, "failing"))
  }
}
