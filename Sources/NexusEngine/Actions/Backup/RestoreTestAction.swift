import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `restore.test`: the weekly proof that the latest dump restores. The dump's
/// checksum is checked against its manifest before anything else; then it is
/// restored with `pg_restore -j N` into `nexus_restore_test` (never `nexus`),
/// verified (exact counts against the manifest, `pg_amcheck --heapallindexed`,
/// staging intact), dropped, and the result written to `restore-test/`. A
/// leftover `nexus_restore_test` is replaced only if its comment marks it as ours.
public struct RestoreTestAction: StepAction {
  public static let name = "restore.test"
  public enum Parameter: String, ParameterKey { case target, database, jobs }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var database: String
  public var jobs: Int?

  static let marker = "nexus-dr restore test"

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required(.target))
    database = try parameters[.database]?.string() ?? "nexus_restore_test"
    if let node = parameters[.jobs] {
      let value = try node.int()
      guard (1...64).contains(value) else { throw node.error(.invalidValue, "jobs must be 1 to 64") }
      jobs = value
    }
  }

  public var declaredOutputs: Set<String>? { ["dump", "passed", "result"] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "pick the newest valid dump in daily/; sha256sum it on the host and compare with its manifest (a mismatch fails here)",
      "restore it with pg_restore -j \(jobs.map(String.init) ?? "<cores>") into \(database) (a leftover is dropped only if marked '\(Self.marker)')",
      "verify: exact row counts against the manifest, pg_amcheck --heapallindexed, staging tables intact; drop \(database); write restore-test/result-<date>.json",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let spec = context.environment.database else { throw StepFailure(.failed, "no database in the inventory") }
    guard database != spec.name, database.wholeMatch(of: #/[a-z_][a-z0-9_]*/#) != nil else {
      throw StepFailure(
        .failed, "the restore test database must be a plain name other than '\(spec.name)', got '\(database)'")
    }
    let root = try context.render(target)
    let started = Date()
    let clock = ContinuousClock()
    var timings: [String: Int64] = [:]
    var problems: [String] = []

    var dumps = try await NASCatalog.load(context, roots: [root]).daily(in: root)
    var source = root
    // Writing to the fallback (the NAS too full, say) does not make the NAS's dumps unreadable:
    // with none in the fallback, the newest on the NAS is tested (found by the fault matrix).
    // The NAS is read only then, and a NAS that does not answer leaves the fallback's result.
    if !dumps.entries.contains(where: \.valid), let nas = context.environment.nas?.path, nas != root,
      let onNAS = try? await NASCatalog.load(context, roots: [nas]).daily(in: nas),
      onNAS.entries.contains(where: \.valid)
    {
      context.console.line(
        "    no dump in \(root)/daily; testing the newest on the NAS (\(nas)), which can still be read")
      dumps = onNAS
      source = nas
    }
    guard let latest = dumps.entries.first(where: \.valid), let manifest = latest.manifest else {
      throw StepFailure(.failed, "no valid dump (with a matching manifest) in \(root)/daily to test")
    }
    let dumpPath = "\(source)/daily/\(latest.name)"
    context.console.line(
      "    testing \(latest.name) (\(ByteSize(bytes: latest.size)), \(manifest.totalRows) rows in \(manifest.tables.count) tables)"
    )

    var mark = clock.now
    let digest = try await context.run(.argv(["sha256sum", "--", dumpPath], timeout: context.timeout), quiet: true)
    timings["checksum"] = (clock.now - mark).milliseconds
    let checksum = digest.stdoutText.split(separator: " ").first.map(String.init) ?? ""
    var result = RestoreVerification(
      passed: false, dump: dumpPath, dumpBytes: latest.size, database: database, startedAt: JournalTime.format(started),
      finishedAt: "",
      checksumMatches: checksum == manifest.sha256, tablesChecked: 0, rowsChecked: 0, differences: [],
      amcheckClean: nil, amcheckOutput: nil, stagingIntact: nil, timingsMs: [:], problems: [])

    if result.checksumMatches {
      // A leftover from a crashed run is replaced only when it is ours.
      let existing: String?
      do {
        existing = try await PGConnection.with(conninfo: spec.conninfo(database: "postgres")) { connection in
          try await connection.query(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') AS comment FROM pg_database WHERE datname = \(database)"
          ).first?["comment"]
        }
      } catch {
        throw StepFailure(.failed, "cannot ask PostgreSQL whether '\(database)' exists: \(error)")
      }
      let comment = existing ?? ""
      if existing != nil, !comment.hasPrefix(Self.marker) {
        throw StepFailure(
          .failed,
          "a database '\(database)' exists that nexus-dr did not create (its comment: '\(comment)'); it was left alone. Rename or drop it by hand, or choose another name."
        )
      }
      var cores = jobs ?? 1
      if jobs == nil {
        let nproc = try await context.run(.argv(["nproc"]), quiet: true)
        cores = max(1, Int(nproc.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1)
      }
      mark = clock.now
      let restore = try await context.run(
        HostCommand(
          .argv(
            [
              "sh", "-c", RemoteScript.restoreTestRestore, "restore", database, dumpPath, String(cores),
              "\(Self.marker), started \(JournalTime.format(started))",
            ] + spec.toolArguments()),
          environment: spec.toolEnvironment, timeout: context.timeout))
      timings["restore"] = (clock.now - mark).milliseconds
      if !restore.succeeded {
        problems.append("pg_restore failed: \(restore.stderrTail.suffix(600))")
      } else {
        mark = clock.now
        do {
          try await PGConnection.with(conninfo: spec.conninfo(database: database)) { connection in
            result.differences = try await RestoreVerification.compareCounts(manifest, connection: connection)
            result.tablesChecked = manifest.tables.count
            result.rowsChecked = manifest.totalRows
            let staging = try await connection.query(
              "SELECT to_regclass('staging.sync_conflicts') IS NOT NULL AS conflicts, to_regclass('staging.sync_inbox') IS NOT NULL AS inbox"
            ).first
            let conflicts = try staging?.decode(Bool.self, "conflicts") ?? false
            let inbox = try staging?.decode(Bool.self, "inbox") ?? false
            result.stagingIntact = conflicts && inbox && !result.differences.contains { $0.table.hasPrefix("staging.") }
          }
        } catch {
          problems.append("cannot count the restored tables: \(error)")
        }
        timings["counts"] = (clock.now - mark).milliseconds
        mark = clock.now
        let amcheck = try await context.run(
          HostCommand(
            .argv(
              ["sh", "-c", RemoteScript.pgtool + RemoteScript.restoreTestAmcheck, "amcheck", database, String(cores)]
                + spec.toolArguments()), environment: spec.toolEnvironment, timeout: context.timeout), quiet: true)
        timings["amcheck"] = (clock.now - mark).milliseconds
        result.amcheckClean = amcheck.succeeded
        result.amcheckOutput = String(amcheck.stdoutText.suffix(2000))
      }
      _ = try await context.run(
        HostCommand(
          .argv(["dropdb", "--if-exists"] + spec.toolArguments() + [database]), environment: spec.toolEnvironment),
        quiet: true)
    } else {
      problems.append(
        "the dump's sha256 \(checksum) does not match its manifest's \(manifest.sha256): it changed after it was written; nothing was restored"
      )
    }

    for difference in result.differences {
      problems.append(
        "\(difference.table): manifest \(difference.expected.map(String.init) ?? "—"), restored \(difference.found.map(String.init) ?? "—")"
      )
    }
    if result.amcheckClean == false { problems.append("pg_amcheck found problems: \(result.amcheckOutput ?? "")") }
    if result.stagingIntact == false { problems.append("the staging tables are not intact") }
    result.problems = problems
    result.passed = problems.isEmpty
    result.finishedAt = JournalTime.format(Date())
    result.timingsMs = timings
    let day = BackupDate.today()
    let resultPath = "\(root)/restore-test/result-\(day).json"
    let encoded: [UInt8]
    do { encoded = try result.encoded() } catch { throw StepFailure(.failed, "cannot encode the result: \(error)") }
    _ = try await context.run(HostCommandLines.makeDirectories("\(root)/restore-test", subdirectories: []), quiet: true)
    let written = try await context.run(HostCommandLines.writeFile(resultPath, content: encoded), quiet: true)
    if !written.succeeded { problems.append("the result could not be written to \(resultPath): \(written.stderrTail)") }
    context.console.line(
      "    \(result.passed ? "PASSED" : "FAILED"): \(result.tablesChecked) tables, \(result.rowsChecked) rows; amcheck \(result.amcheckClean.map { $0 ? "clean" : "NOT clean" } ?? "not run"); result in \(resultPath)"
    )
    guard result.passed else {
      throw StepFailure(.failed, "the restore test failed:\n  " + problems.joined(separator: "\n  "))
    }
    return StepResult(outputs: ["dump": dumpPath, "passed": "true", "result": resultPath])
  }
}
