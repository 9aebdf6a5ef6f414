import Foundation
import NexusCore
import NexusTransport

/// `files.mirror`: rsync of the attachments to `attachments/` on the NAS.
/// A file deleted or overwritten on the server is not lost: rsync moves the NAS
/// copy into `attachments/.history/YYYYMMDD/` (the run's date), kept for
/// `keep_days` (default retention.daily) and then pruned.
public struct FilesMirrorAction: StepAction {
  public static let name = "files.mirror"
  public enum Parameter: String, ParameterKey {
    case source, target, date
    case keepDays = "keep_days"
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var source: Template?
  public var target: Template
  public var date: Template?
  public var keepDays: Int?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    source = try parameters[.source].map(context.template)
    target = try context.template(
      try parameters.required(.target, hint: "the backup root; the mirror goes to TARGET/attachments"))
    date = try parameters[.date].map(context.template)
    keepDays = try parameters[.keepDays]?.int()
  }

  public var declaredOutputs: Set<String>? { ["mirror", "history", "pruned"] }

  public func plan(_ context: PlanContext) -> [String] {
    let base = (try? target.render(context.values)) ?? target.description
    let from =
      source.map { (try? $0.render(context.values)) ?? $0.description } ?? context.values.environment["attachments"]
      ?? "{{ env.attachments }}"
    return [
      "rsync -a --delete --backup --backup-dir=\(base)/attachments/.history/<date> \(from)/ \(base)/attachments/; prune .history older than \(keepDays.map(String.init) ?? "retention.daily") days"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let from: String
    if let source {
      from = try context.render(source)
    } else {
      guard let attachments = context.environment.attachments else {
        throw StepFailure(.failed, "no attachments path in the inventory")
      }
      from = attachments
    }
    let mirror = "\(try context.render(target))/attachments"
    let day = try BackupDate.resolve(
      try date.map { template throws(StepFailure) in try context.render(template) } ?? "")
    let cutoff = BackupDate.minus(day, days: keepDays ?? context.environment.retention.daily)
    let script = RemoteScript.filesMirror
    let result = try await context.run(
      HostCommand(.argv(["bash", "-c", script, "mirror", from, mirror, day, cutoff]), timeout: context.timeout))
    guard result.succeeded else {
      throw StepFailure(
        .failed, "the attachments mirror failed: \(result.stderrTail.suffix(600))", exitStatus: result.exitCode)
    }
    let pruned = result.stdoutText.firstMatch(of: #/pruned=([0-9]+)/#).map { String($0.output.1) } ?? "0"
    return StepResult(
      outputs: ["mirror": mirror, "history": "\(mirror)/.history/\(day)", "pruned": pruned], exitStatus: 0)
  }
}
