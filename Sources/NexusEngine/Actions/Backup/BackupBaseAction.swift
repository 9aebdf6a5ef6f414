import Foundation
import NexusBackup
import NexusCore
import NexusTransport

/// `backup.base`: a physical base backup for point-in-time recovery —
/// `pg_basebackup` (tar, gzip, WAL streamed alongside) to `base/YYYYMMDD/`,
/// verified with `pg_verifybackup` on an extracted copy before it counts, then
/// the configured number kept (never the newest valid one).
public struct BackupBaseAction: StepAction {
  public static let name = "backup.base"
  public enum Parameter: String, ParameterKey { case target, date, keep }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var date: Template?
  public var keep: Int?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required(.target))
    date = try parameters[.date].map(context.template)
    keep = try parameters[.keep]?.int()
  }

  public var declaredOutputs: Set<String>? { ["path", "size", "start_lsn", "removed"] }

  public func plan(_ context: PlanContext) -> [String] {
    let base = (try? target.render(context.values)) ?? target.description
    return [
      "on \(context.step.host ?? "server"): pg_basebackup -Ft -z -X stream -c fast -U \(context.values.environment["database.backup_role"] ?? "nexus_backup") -D \(base)/base/.<date>.partial",
      "extract to a scratch directory and pg_verifybackup it; rename to \(base)/base/<date>; keep \(keep.map(String.init) ?? "retention.base_backups") newest",
    ]
  }

  /// Finds a PostgreSQL server tool: on PATH, else the newest /usr/lib/postgresql/*/bin.

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database else {
      throw StepFailure(.failed, "no database in the inventory")
    }
    let backupRoot = try context.render(target)
    let root = "\(backupRoot)/base"
    let day = try BackupDate.resolve(
      try date.map { template throws(StepFailure) in try context.render(template) } ?? "")
    let partial = "\(root)/.\(day).partial"
    let final = "\(root)/\(day)"
    let arguments =
      ["--format=tar", "--gzip", "--wal-method=stream", "--checkpoint=fast", "--label=nexus-dr \(day)"]
      + database.toolArguments(user: database.backupRole) + ["--pgdata=\(partial)"]
    let script = RemoteScript.pgtool + RemoteScript.backupBase
    let result = try await context.run(
      HostCommand(
        .argv(["bash", "-c", script, "base-backup", root, partial, final] + arguments),
        environment: database.toolEnvironment, timeout: context.timeout))
    guard result.succeeded else {
      _ = try? await context.run(.argv(["rm", "-rf", "--", partial]), quiet: true)
      throw StepFailure(
        .failed,
        "the base backup failed or did not verify (\(result.termination)); the partial copy was removed:\n  \(result.stderrTail.suffix(800))",
        exitStatus: result.exitCode)
    }
    let lines = result.stdoutText.split(separator: "\n").map(String.init)
    let size = lines.dropLast().last.flatMap { Int64($0) } ?? 0
    let startLSN = lines.last ?? ""

    // Keep the newest ones; only YYYYMMDD directories with a manifest count as valid.
    let catalog = try await NASCatalog.load(context, roots: [backupRoot])
    let listed =
      catalog.bases.map { ($0.name, true) } + catalog.incompleteBases.map { ($0.name, false) }
      + catalog.unreadableBases.map { (URL(fileURLWithPath: $0).lastPathComponent, true) }
    let items = listed.compactMap { name, valid -> RetentionPlan.Item? in
      guard BackupDate.isValid(name) else { return nil }
      return RetentionPlan.Item(name: name, date: name, valid: valid)
    }
    let plan = RetentionPlan.make(items: items, keep: keep ?? context.environment.retention.baseBackups, current: day)
    if !plan.remove.isEmpty {
      _ = try await context.run(
        HostCommand(.argv(["rm", "-rf", "--"] + plan.remove.map { "\(root)/\($0.name)" }), timeout: .seconds(300)),
        quiet: true)
    }
    context.console.line(
      "    verified with pg_verifybackup; \(ByteSize(bytes: size)); start \(startLSN)\(plan.remove.isEmpty ? "" : "; removed \(plan.remove.map(\.name).joined(separator: ", "))")"
    )
    return StepResult(
      outputs: [
        "path": final, "size": String(size), "start_lsn": startLSN,
        "removed": plan.remove.map(\.name).joined(separator: ","),
      ],
      exitStatus: 0, bytes: size)
  }
}
