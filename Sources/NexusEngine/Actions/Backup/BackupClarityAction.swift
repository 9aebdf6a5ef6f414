import Foundation
import NexusCore
import NexusTransport

/// `backup.clarity`: the Clarity export — by default `pg_dump -Fc -n clarity` —
/// into `clarity/clarity_YYYYMMDD.dump`, verified, kept `keep_days` (default retention.clarity_days).
public struct BackupClarityAction: StepAction {
  public static let name = "backup.clarity"
  public enum Parameter: String, ParameterKey {
    case target, date, schema
    case keepDays = "keep_days"
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var date: Template?
  public var schema: String
  public var keepDays: Int?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required(.target))
    date = try parameters[.date].map(context.template)
    schema = try parameters[.schema]?.string() ?? "clarity"
    keepDays = try parameters[.keepDays]?.int()
  }

  public var declaredOutputs: Set<String>? { ["export", "size", "pruned"] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "pg_dump -Fc -n \(schema) → clarity/clarity_<date>.dump (verified with pg_restore --list); remove exports older than \(keepDays.map(String.init) ?? "retention.clarity_days") days"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database else {
      throw StepFailure(.failed, "no database in the inventory")
    }
    let directory = "\(try context.render(target))/clarity"
    let day = try BackupDate.resolve(
      try date.map { template throws(StepFailure) in try context.render(template) } ?? "")
    let cutoff = BackupDate.minus(day, days: keepDays ?? context.environment.retention.clarityDays)
    let dumpArguments =
      ["--format=custom", "--schema=\(schema)"] + database.toolArguments(user: database.backupRole) + [
        "--dbname=\(database.name)"
      ]
    let script = RemoteScript.backupClarity
    let result = try await context.run(
      HostCommand(
        .argv(["bash", "-c", script, "clarity", directory, day, cutoff] + dumpArguments),
        environment: database.toolEnvironment, timeout: context.timeout),
      quiet: true)
    guard result.succeeded else {
      throw StepFailure(
        .failed, "the Clarity export failed: \(result.stderrTail.suffix(600))", exitStatus: result.exitCode)
    }
    let lines = result.stdoutText.split(separator: "\n").map(String.init)
    let pruned = result.stdoutText.firstMatch(of: #/pruned=([0-9]+)/#).map { String($0.output.1) } ?? "0"
    context.console.line(
      "    clarity_\(day).dump: \(lines.first.flatMap(Int64.init).map { ByteSize(bytes: $0).description } ?? "?"); removed \(pruned) older than \(cutoff)"
    )
    return StepResult(
      outputs: ["export": "\(directory)/clarity_\(day).dump", "size": lines.first ?? "0", "pruned": pruned],
      exitStatus: 0)
  }
}
