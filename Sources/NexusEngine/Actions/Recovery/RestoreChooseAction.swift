import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `restore.choose`: the restore points, each with its data-loss window and an
/// estimate of its duration; the operator picks one (question `choose.STEP-ID`).
/// Offered: the latest valid dump (loses everything written since its snapshot).
/// Point-in-time recovery is listed with its window once base backups and an
/// unbroken WAL chain exist, but this version restores from dumps only.
public struct RestoreChooseAction: StepAction {
  public static let name = "restore.choose"
  public static let parameterKeys = ["target"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template?

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    target = try parameters["target"].map(context.template)
  }

  public var declaredOutputs: Set<String>? { ["choice", "method", "source", "manifest", "loss_since", "loss_window"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["list the restore points with their data-loss windows; ask which (question choose.\(context.step.id))"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else { throw StepFailure(.failed, "no nas in the inventory") }
    let root = try target.map { template throws(StepFailure) in try context.render(template) } ?? nas.path
    let dumps = try await DailyDumps.load(context, directory: "\(root)/daily")
    guard let latest = dumps.entries.first(where: \.valid), let manifest = latest.manifest else {
      throw StepFailure(.failed, "no valid dump in \(root)/daily to restore from")
    }
    let since = JournalTime.parse(manifest.startedAt) ?? Date()
    let hours = Date().timeIntervalSince(since) / 3600
    // A rough estimate: ~40 MB/s of custom-format dump restored (pg_restore -j N on this kind of machine).
    let estimate = DurationText.format(.seconds(max(10, Int64(Double(latest.size) / 40e6))))
    let window = String(format: "everything written after %@ (%.1f h ago)", JournalTime.display(since), hours)
    var options = [
      ChoiceOption(id: "dump", label: "latest dump \(latest.name): loses \(window); restore about \(estimate)"),
    ]
    let bases = try await context.run(HostCommand(.argv(["sh", "-c", #"ls -1d "$1"/base/*/ 2>/dev/null | wc -l"#, "bases", root]), timeout: .seconds(30)), quiet: true)
    if (Int(bases.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0 {
      context.console.line("    point-in-time recovery (base backup + WAL) is not offered by this version of nexus-dr; base/ and wal/ on the NAS are kept for it — do not delete them")
    }
    if options.count == 1 { options[0].label += " (the only option)" }
    let answer = try await context.ask(Question(
      id: "choose.\(context.step.id)",
      text: "Which restore point? Each option says what it loses.", kind: .choice(options)))
    return StepResult(outputs: [
      "choice": answer.value, "method": "logical", "source": "\(root)/daily/\(latest.name)",
      "manifest": "\(root)/daily/\(DumpManifest.name(forDump: latest.name))",
      "loss_since": manifest.startedAt, "loss_window": window,
    ])
  }
}

/// `pg.verify`: the restored database against the dump's manifest — exact row
/// counts of every table (the staging tables included) and `pg_amcheck
/// --heapallindexed` (which installs the amcheck extension if missing). Fails on any difference.
public struct VerifyRestoreAction: StepAction {
  public static let name = "pg.verify"
  public static let parameterKeys = ["manifest"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var manifest: Template

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    manifest = try context.template(try parameters.required("manifest", hint: "{{ steps.choose.output.manifest }}"))
  }

  public var declaredOutputs: Set<String>? { ["tables", "rows", "amcheck"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["count every table of \(context.values.environment["database.name"] ?? "nexus") against the manifest (exactly); pg_amcheck --heapallindexed"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let spec = context.environment.database else { throw StepFailure(.failed, "no database in the inventory") }
    let path = try context.render(manifest)
    let text = try await context.run(.argv(["cat", "--", path]), quiet: true)
    guard text.succeeded, let parsed = try? DumpManifest.decode(Data(text.stdout)) else {
      throw StepFailure(.failed, "cannot read the manifest \(path)")
    }
    var problems: [String] = []
    do {
      let connection = try await PGConnection.connect(conninfo: spec.conninfo())
      let differences = try await RestoreVerification.compareCounts(parsed, connection: connection)
      problems += differences.map { "\($0.table): manifest \($0.expected.map(String.init) ?? "—"), restored \($0.found.map(String.init) ?? "—")" }
      await connection.close()
    } catch {
      throw StepFailure(.failed, "cannot count the restored tables: \(error)")
    }
    let nproc = try await context.run(.argv(["nproc"]), quiet: true)
    let amcheck = try await context.run(HostCommand(.argv(["sh", "-c", BaseBackupAction.toolLookup + #"""

      cd /
      runuser -u postgres -- "$(pgtool pg_amcheck)" --install-missing --heapallindexed --jobs="$2" -d "$1" 2>&1
      """#, "amcheck", spec.name, nproc.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)]), timeout: context.timeout), quiet: true)
    if !amcheck.succeeded { problems.append("pg_amcheck: \(amcheck.stdoutText.suffix(600))") }
    context.console.line("    \(parsed.tables.count) tables, \(parsed.totalRows) rows against the manifest; pg_amcheck \(amcheck.succeeded ? "clean" : "NOT clean")")
    guard problems.isEmpty else { throw StepFailure(.failed, "the restored database does not match:\n  " + problems.joined(separator: "\n  ")) }
    return StepResult(outputs: ["tables": String(parsed.tables.count), "rows": String(parsed.totalRows), "amcheck": "clean"])
  }
}
