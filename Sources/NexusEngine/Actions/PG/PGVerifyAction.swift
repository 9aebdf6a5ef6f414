import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `pg.verify`: the restored database. After a logical restore (a `manifest`
/// given): exact row counts of every table (the staging tables included) against
/// the dump's manifest. After point-in-time recovery (`manifest` empty — there is
/// no count to compare with): every table counted and reported, and the staging
/// tables must be there. Both: `pg_amcheck --heapallindexed` (which installs the
/// amcheck extension if missing). Fails on any difference.
public struct PGVerifyAction: StepAction {
  public static let name = "pg.verify"
  public enum Parameter: String, ParameterKey { case manifest }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var manifest: Template

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    manifest = try context.template(
      try parameters.required(
        .manifest, hint: "{{ steps.choose.output.manifest }} (empty after point-in-time recovery)"))
  }

  public var declaredOutputs: Set<String>? { ["tables", "rows", "amcheck"] }

  public func plan(_ context: PlanContext) -> [String] {
    let name = context.values.environment["database.name"] ?? "nexus"
    return [
      "count every table of \(name): against the dump's manifest exactly (logical restore), or reported (point in time: the staging tables must be there)",
      "pg_amcheck --heapallindexed over every relation of \(name)",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let spec = context.environment.database else { throw StepFailure(.failed, "no database in the inventory") }
    let path = try context.render(manifest)
    var parsed: DumpManifest?
    if !path.isEmpty {
      let text = try await context.run(.argv(["cat", "--", path]), quiet: true)
      guard text.succeeded, let decoded = try? DumpManifest.decode(Data(text.stdout)) else {
        throw StepFailure(.failed, "cannot read the manifest \(path)")
      }
      parsed = decoded
    }
    var problems: [String] = []
    var tables = 0
    var rows: Int64 = 0
    do {
      try await PGConnection.with(conninfo: spec.conninfo()) { connection in
        if let parsed {
          let differences = try await RestoreVerification.compareCounts(parsed, connection: connection)
          problems += differences.map {
            "\($0.table): manifest \($0.expected.map(String.init) ?? "—"), restored \($0.found.map(String.init) ?? "—")"
          }
          tables = parsed.tables.count
          rows = parsed.totalRows
        } else {
          let counts = try await RestoreVerification.countAll(connection: connection)
          tables = counts.count
          rows = counts.values.reduce(0, +)
          for required in ["staging.sync_inbox", "staging.sync_conflicts"] where counts[required] == nil {
            problems.append("\(required) is missing")
          }
        }
      }
    } catch {
      throw StepFailure(.failed, "cannot count the restored tables: \(error)")
    }
    let nproc = try await context.run(.argv(["nproc"]), quiet: true)
    let amcheck = try await context.run(
      HostCommand(
        .argv(
          [
            "sh", "-c", RemoteScript.pgtool + RemoteScript.pgVerifyAmcheck, "amcheck", spec.name,
            nproc.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines),
          ] + spec.toolArguments()),
        environment: spec.toolEnvironment, timeout: context.timeout), quiet: true)
    if !amcheck.succeeded { problems.append("pg_amcheck: \(amcheck.stdoutText.suffix(600))") }
    context.console.line(
      "    \(tables) tables, \(rows) rows \(parsed == nil ? "counted (point in time: no manifest to compare with)" : "against the manifest"); pg_amcheck \(amcheck.succeeded ? "clean" : "NOT clean")"
    )
    guard problems.isEmpty else {
      throw StepFailure(.failed, "the restored database does not match:\n  " + problems.joined(separator: "\n  "))
    }
    return StepResult(outputs: ["tables": String(tables), "rows": String(rows), "amcheck": "clean"])
  }
}
