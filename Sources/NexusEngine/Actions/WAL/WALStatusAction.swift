import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// `wal.status`: the archiver as PostgreSQL sees it (`pg_stat_archiver`) and the
/// spool on the server. Reports; never fails the run over archiving trouble —
/// health turns that into WARNING or CRITICAL.
public struct WALStatusAction: StepAction {
  public static let name = "wal.status"
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {}

  public var declaredOutputs: Set<String>? {
    ["archived_count", "failed_count", "last_archived_wal", "lag_seconds", "failing", "spooled"]
  }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "read pg_stat_archiver; count segments waiting in \(context.values.environment["nas.fallback"] ?? "the fallback")/wal-spool"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database, let nas = context.environment.nas else {
      throw StepFailure(.failed, "the inventory needs database and nas sections")
    }
    let status: WALArchiverStatus
    do { status = try await WALArchiverStatus.read(database) } catch { throw StepFailure(.failed, "\(error)") }
    let spooled = String(
      try await NASCatalog.load(context, roots: [], spool: "\(nas.fallback)/wal-spool").spooledSegments)
    context.console.line("    \(status.summary); \(spooled) segment(s) spooled on the server")
    return StepResult(outputs: [
      "archived_count": String(status.archivedCount), "failed_count": String(status.failedCount),
      "last_archived_wal": status.lastArchivedWAL ?? "", "lag_seconds": status.lagSeconds.map { String(Int($0)) } ?? "",
      "failing": status.failing ? "true" : "false", "spooled": spooled,
    ])
  }
}
