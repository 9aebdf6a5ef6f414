import Foundation
import NexusBackup
import NexusCore
import NexusTransport

/// `backup.rotate`: keeps the configured number of daily dumps by the date in
/// their names, never the newest valid one, deletes nothing when this run's
/// dump is not the newest valid dump, and never touches a file it does not recognise.
public struct BackupRotateAction: StepAction {
  public static let name = "backup.rotate"
  public enum Parameter: String, ParameterKey { case target, current, keep, prefix }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var current: Template
  public var keep: Int?
  public var prefix: String

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required(.target))
    current = try context.template(
      try parameters.required(.current, hint: "this run's dump: {{ steps.dump.output.dump }}"))
    if let node = parameters[.keep] {
      let value = try node.int()
      guard value >= 1 else { throw node.error(.invalidValue, "keep must be at least 1") }
      keep = value
    }
    prefix = try parameters[.prefix]?.string() ?? "nexus"
  }

  public var declaredOutputs: Set<String>? { ["kept", "removed"] }

  public func plan(_ context: PlanContext) -> [String] {
    let base = (try? target.render(context.values)) ?? target.description
    return [
      "keep the \(keep.map(String.init) ?? "retention.daily") newest \(prefix)_YYYYMMDD.dump in \(base)/daily (never the newest valid one); remove the others with their manifests and globals; nothing if this run's dump is not the newest valid one"
    ]
  }

  public func probe(_ context: StepContext) async throws(StepFailure) -> [String] {
    // Before the run, the target may not be known yet (it comes from nas.check): assume the NAS.
    let base = (try? context.render(target)) ?? context.environment.nas?.path ?? ""
    let dumps = try await NASCatalog.load(context, roots: [base]).daily(in: base, prefix: prefix)
    var items = dumps.entries.map { RetentionPlan.Item(name: $0.name, date: $0.date, valid: $0.valid) }
    let tonight = "\(prefix)_\(BackupDate.today()).dump"
    if !items.contains(where: { $0.name == tonight }) {
      items.append(.init(name: tonight, date: BackupDate.today(), valid: true))
    }
    let plan = RetentionPlan.make(items: items, keep: keep ?? context.environment.retention.daily, current: tonight)
    return [
      "if tonight's dump succeeds, rotation removes: "
        + (plan.remove.isEmpty ? "nothing" : plan.remove.map(\.name).joined(separator: ", "))
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let root = try context.render(target)
    let directory = "\(root)/daily"
    let currentName = URL(fileURLWithPath: try context.render(current)).lastPathComponent
    let dumps = try await NASCatalog.load(context, roots: [root]).daily(in: root, prefix: prefix)
    let items = dumps.entries.map { RetentionPlan.Item(name: $0.name, date: $0.date, valid: $0.valid) }
    let plan = RetentionPlan.make(items: items, keep: keep ?? context.environment.retention.daily, current: currentName)
    if let reason = plan.heldBack {
      context.console.line("    nothing removed: \(reason)")
      return StepResult(outputs: ["kept": plan.keep.map(\.name).joined(separator: ","), "removed": ""])
    }
    if !plan.remove.isEmpty {
      let paths = plan.remove.flatMap {
        [
          "\(directory)/\($0.name)", "\(directory)/\(DumpManifest.name(forDump: $0.name))",
          "\(directory)/\(DumpManifest.globalsName(forDump: $0.name))",
        ]
      }
      let removal = try await context.run(HostCommand(.argv(["rm", "-f", "--"] + paths), timeout: .seconds(120)))
      guard removal.succeeded else { throw StepFailure(.failed, "removing old dumps failed: \(removal.stderrTail)") }
      context.console.line("    removed \(plan.remove.map(\.name).joined(separator: ", "))")
    }
    return StepResult(outputs: [
      "kept": plan.keep.map(\.name).joined(separator: ","), "removed": plan.remove.map(\.name).joined(separator: ","),
    ])
  }
}
