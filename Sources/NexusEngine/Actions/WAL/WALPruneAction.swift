import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// `wal.prune`: removes archived WAL that is both older than retention.wal_days
/// and older than the start of the oldest base backup kept in `base/` — so every
/// retained base backup can still be rolled forward. Without a base backup,
/// nothing is removed.
public struct WALPruneAction: StepAction {
  public static let name = "wal.prune"
  public enum Parameter: String, ParameterKey { case target, days }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var days: Int?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required(.target))
    days = try parameters[.days]?.int()
  }

  public var declaredOutputs: Set<String>? { ["removed", "oldest_needed"] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "remove segments in wal/ older than \(days.map(String.init) ?? "retention.wal_days") days AND before the oldest kept base backup's start; none if there is no base backup"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let root = try context.render(target)
    let cutoffSeconds = (days ?? context.environment.retention.walDays) * 86_400
    let catalog = try await NASCatalog.load(context, roots: [root])
    let segments = catalog.bases.map(\.startSegment)
    guard catalog.unreadableBases.isEmpty else {
      let manifests = segments.count + catalog.unreadableBases.count
      throw StepFailure(
        .failed,
        "could not read the start of every base backup (\(segments.count) of \(manifests) manifests understood); no WAL was removed"
      )
    }
    guard let oldestNeeded = segments.min() else {
      context.console.line("    no base backup yet: nothing removed")
      return StepResult(outputs: ["removed": "0", "oldest_needed": ""])
    }
    let names = catalog.prunable(
      before: oldestNeeded, archivedBefore: Date().addingTimeInterval(-Double(cutoffSeconds)))
    var prune = HostCommand(.argv(["bash", "-c", RemoteScript.walPrune, "prune", root]), timeout: .seconds(600))
    prune.stdin = Array(names.map { $0 + "\n" }.joined().utf8)
    let result = try await context.run(prune, quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "pruning WAL failed: \(result.stderrTail)") }
    let removed = result.stdoutText.firstMatch(of: #/removed=([0-9]+)/#).map { String($0.output.1) } ?? "0"
    context.console.line(
      "    removed \(removed) segment(s) before \(oldestNeeded) and older than \(cutoffSeconds / 86_400) days")
    return StepResult(outputs: ["removed": removed, "oldest_needed": oldestNeeded])
  }
}
