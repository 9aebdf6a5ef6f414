import Foundation
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

/// One case of the fault matrix and what happened.
struct FaultCase: Codable, Sendable {
  var runbook: String
  var step: String
  var fault: String
  var recovery: String
  /// passed, failed, or n/a (the step does not run on this path)
  var result: String
  var detail: String
}

/// The matrix's results, kept across its tests and written outside the repository, to
/// `$NEXUS_FAULT_MATRIX` (default `/tmp/nexus-dr-fault-matrix.json`); `scripts/fault-matrix-table`
/// turns them into docs/reliability.md's table.
enum FaultMatrix {
  static let cases = Locked<[FaultCase]>([])
  static let output = ProcessInfo.processInfo.environment["NEXUS_FAULT_MATRIX"] ?? "/tmp/nexus-dr-fault-matrix.json"

  static func record(_ item: FaultCase) {
    cases.withLock { $0.append(item) }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let all = cases.withLock { $0 }
    try? encoder.encode(all).write(to: URL(fileURLWithPath: output))
  }

  /// The ids of a runbook's steps (not its preflight checks), in order.
  static func steps(repository: String, runbook: String) throws -> [String] {
    let text = try String(contentsOfFile: "\(repository)/runbooks/\(runbook).yaml", encoding: .utf8)
    guard let body = text.range(of: "\nsteps:\n") else { return [] }
    return text[body.upperBound...].matches(of: #/(?m)^  - id: ([a-z0-9-]+)/#).map { String($0.output.1) }
  }

  /// `resume.STEP: rerun` for every step of the runbook: the operator's answer after a crash.
  static func resumeAnswers(repository: String, runbook: String) throws -> String {
    try steps(repository: repository, runbook: runbook).map { "resume.\($0): rerun" }.joined(separator: "\n") + "\n"
  }

  /// Kills nexus-dr at every step of one run, point after point (each step's start, and right
  /// after its command returned, before the journal knew): the run dies at the first point,
  /// `resume` at the next, and so on until a resume completes. A point passes when the process
  /// died there (exit 137) and the next resume got past it; a point the run never reached (a
  /// step of the other branch) is n/a. Then the journal must say completed with every resume
  /// recorded, and `invariants` (the scenario's own, checked once at the end) must hold: if
  /// not, every point of the chain failed with that reason.
  static func killChain(
    _ runbook: String, repository: String, stateDirectory: String, run: [String], resume: [String],
    invariants: () async throws -> String?
  ) async throws {
    let steps = try steps(repository: repository, runbook: runbook)
    var points = steps.flatMap { ["\($0):after-start", "\($0):after-command"] }
    let note = stateDirectory + "/crash-note"
    var killed: [String] = []
    var notReached: [String] = []
    var problem: String?
    var arguments = run
    var kills = 0
    while problem == nil {
      try? FileManager.default.removeItem(atPath: note)
      let process = try await CLIProcess.run(
        arguments, environment: ["NEXUS_DR_CRASH_AT": points.joined(separator: ","), "NEXUS_DR_CRASH_NOTE": note])
      if process.status == 0 {
        notReached += points
        break
      }
      guard process.status == 128 + SIGKILL else {
        problem = "\(arguments[0]) ended \(process.status) after \(kills) kill(s): \(process.output.suffix(500))"
        break
      }
      let hit = ((try? String(contentsOfFile: note, encoding: .utf8)) ?? "").trimmingCharacters(
        in: .whitespacesAndNewlines)
      guard let index = points.firstIndex(of: hit) else {
        problem = "killed, but not at one of the points (\(hit))"
        break
      }
      notReached += points[..<index]
      killed.append(hit)
      points.removeFirst(index + 1)
      arguments = resume
      kills += 1
    }
    if problem == nil {
      let history = RunDirectory.all(stateDirectory: stateDirectory).last { $0.runbookID == runbook }
      if history?.state(lockHeldByThisRun: false) != .completed {
        problem = "the journal does not say completed"
      } else if let history, history.records.filter({ $0.type == .runResumed }).count < kills {
        problem = "the journal records \(history.records.filter { $0.type == .runResumed }.count) resumes, not \(kills)"
      }
    }
    if problem == nil {
      do { problem = try await invariants() } catch { problem = "\(error)" }
    }
    for point in killed {
      let parts = point.split(separator: ":").map(String.init)
      record(
        .init(
          runbook: runbook, step: parts[0], fault: "nexus-dr killed (\(parts[1]))", recovery: "resume (one chain)",
          result: problem == nil ? "passed" : "failed", detail: problem ?? ""))
    }
    for point in notReached {
      let parts = point.split(separator: ":").map(String.init)
      record(
        .init(
          runbook: runbook, step: parts[0], fault: "nexus-dr killed (\(parts[1]))", recovery: "resume (one chain)",
          result: "n/a", detail: "not reached on this run's path"))
    }
    if let problem { Issue.record("\(runbook) kill chain: \(problem)") }
    #expect(kills >= steps.count, "\(runbook): killed \(kills) times over \(steps.count) steps")
  }
}

extension LabSuites {
  /// The fault-injection matrix: for each step of nightly, weekly and corrupt-db, nexus-dr is
  /// killed (SIGKILL, at the step's start and right after its command, before the journal knows),
  /// then resumed; for the routine runbooks also PostgreSQL stopped, the NAS unmounted, the NAS
  /// full and the server's host key changed, then rerun or resumed. After each case: the newest
  /// valid backup from before is there byte for byte, the run's journal says completed, the
  /// messages and exit statuses are DESIGN.md's; for corrupt-db, nothing ipad-1 had
  /// acknowledged before the drop is missing.
  @Suite("fault matrix (lab)", .serialized)
  struct FaultMatrixLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let repository: String
    let nas: String
    let local = LocalTransport()

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-fault-matrix")
      repository = Lab.repository
      nas = try lab.value("NAS_MOUNT")
    }

    func common(inventory: String? = nil) -> [String] {
      [
        "--inventory", inventory ?? lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }

    /// Answers for resume: every step of the runbook may be rerun (the operator's answer after
    /// a crash), plus the scenario's own questions.
    func answers(_ runbook: String, extra: String = "") throws -> String {
      let text = try String(contentsOfFile: "\(repository)/runbooks/\(runbook).yaml", encoding: .utf8)
      let ids = text.matches(of: #/\n  - id: ([a-z0-9-]+)/#).map { String($0.output.1) }
      return try state.write(
        "answers-\(runbook).yaml", ids.map { "resume.\($0): rerun" }.joined(separator: "\n") + "\n" + extra)
    }

    /// The valid backups on the NAS: a dump whose sha256 is its manifest's, a base backup with
    /// its `backup_manifest`.
    func validBackups() async throws -> Set<String> {
      let listing = try await local.runChecked(
        .shell(
          "cd \(ShellQuote.quote(nas)) && for m in daily/nexus_*.manifest.json; do [ -f \"$m\" ] && d=${m%.manifest.json}.dump && [ -f \"$d\" ] && echo \"dump $(sha256sum < \"$d\" | cut -d' ' -f1) $d $(tr -d ' \\n' < \"$m\" | sed -n 's/.*\"sha256\":\"\\([0-9a-f]*\\)\".*/\\1/p')\"; done; for b in base/*/backup_manifest; do [ -f \"$b\" ] && echo \"base - $b -\"; done; true",
          timeout: .seconds(300))
      ).stdoutText
      var valid: Set<String> = []
      for line in listing.split(separator: "\n") {
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count == 4 else { continue }
        if parts[0] == "base" || parts[1] == parts[3] { valid.insert(parts[2]) }
      }
      return valid
    }

    /// The newest valid dump and base backup: after a case each must still be a valid backup
    /// (the same file, or a valid new one of the same day).
    func newest(_ valid: Set<String>) -> Set<String> {
      var kept: Set<String> = []
      for prefix in ["daily/", "base/"] {
        if let key = valid.filter({ $0.hasPrefix(prefix) }).sorted().last { kept.insert(key) }
      }
      return kept
    }

    func latestRun(_ runbook: String) -> RunHistory? {
      RunDirectory.all(stateDirectory: state.path).last { $0.runbookID == runbook }
    }

    /// Runs one case and records it; `body` returns nil when the case passed, else why not.
    func check(_ runbook: String, _ step: String, _ fault: String, recovery: String, _ body: () async throws -> String?)
      async
    {
      let before: Set<String>
      do { before = newest(try await validBackups()) } catch {
        FaultMatrix.record(
          .init(runbook: runbook, step: step, fault: fault, recovery: recovery, result: "failed", detail: "\(error)"))
        Issue.record("\(runbook)/\(step)/\(fault): \(error)")
        return
      }
      var problem: String?
      do { problem = try await body() } catch { problem = "\(error)" }
      if problem == nil || problem == "n/a" {
        let after = (try? await validBackups()) ?? []
        let gone = before.subtracting(after)
        if !gone.isEmpty { problem = "a valid backup is gone or no longer valid: \(gone.sorted())" }
      }
      let result = problem == nil ? "passed" : problem == "n/a" ? "n/a" : "failed"
      FaultMatrix.record(
        .init(runbook: runbook, step: step, fault: fault, recovery: recovery, result: result, detail: problem ?? ""))
      if result == "failed" { Issue.record("\(runbook) / \(step) / \(fault): \(problem ?? "")") }
    }

    /// kill -9 at `step:phase`, then `resume`: exit 137, then 0, the journal completed.
    func killAndResume(_ runbook: String, arguments: [String], step: String, phase: String, answers: String)
      async throws -> String?
    {
      let crashed = try await CLIProcess.run(
        arguments + ["--answers", answers] + common(), environment: ["NEXUS_DR_CRASH_AT": "\(step):\(phase)"])
      if crashed.status == 0 { return "n/a" }  // the step does not run on this path
      guard crashed.status == 128 + SIGKILL else {
        return "the run ended \(crashed.status), not killed: \(crashed.output.suffix(400))"
      }
      let resumed = try await CLIProcess.run(["resume", "--answers", answers] + common())
      guard resumed.status == 0 else { return "resume ended \(resumed.status): \(resumed.output.suffix(600))" }
      guard let history = latestRun(runbook), history.state(lockHeldByThisRun: false) == .completed else {
        return "the journal does not say completed"
      }
      guard history.records.contains(where: { $0.type == .runResumed }) else {
        return "the journal does not record the resume"
      }
      return nil
    }

    @Test(
      "nightly: kill -9 at every step (start, and after its command), PostgreSQL stopped, the NAS unmounted, the NAS full, the server's host key changed"
    )
    func nightly() async throws {
      try await Lab.command(["up"])
      let answers = try answers("nightly")
      let steps = ["nas", "dump", "size", "rotate", "wal", "wal-prune", "attachments", "clarity"]
      for step in steps {
        for phase in ["after-start", "after-command"] {
          await check("nightly", step, "nexus-dr killed (\(phase))", recovery: "resume") {
            try await killAndResume(
              "nightly", arguments: ["routine", "nightly"], step: step, phase: phase, answers: answers)
          }
        }
      }
      try await lab.withSSH("server") { server in
        await check("nightly", "dump", "PostgreSQL stopped", recovery: "start it, resume") {
          _ = try await server.runChecked(.argv(["systemctl", "stop", "postgresql"]))
          let failed = try await CLIProcess.run(["routine", "nightly"] + common())
          _ = try await server.runChecked(.argv(["systemctl", "start", "postgresql"]))
          guard failed.status == 1 else { return "exit \(failed.status), expected 1: \(failed.output.suffix(400))" }
          guard failed.output.contains("✘ [2/9] dump") else {
            return "the dump step did not fail visibly: \(failed.output.suffix(400))"
          }
          #expect(
            try await eventually(within: .seconds(60)) {
              (try? await PGConnection.with(conninfo: try lab.conninfo()) { _ in }) != nil
            })
          let resumed = try await CLIProcess.run(["resume", "--answers", answers] + common())
          return resumed.status == 0 ? nil : "resume ended \(resumed.status): \(resumed.output.suffix(400))"
        }
        await check(
          "nightly", "dump", "link down mid-command (nexus-server unplugged while pg_dump runs)",
          recovery: "link back, resume"
        ) {
          try await linkDownDuringDump(answers: answers)
        }
        await check("nightly", "nas", "NAS unmounted", recovery: "fallback, then the NAS back and a rerun") {
          try await lab.command(["nas-down"])
          let fallback = try await CLIProcess.run(["routine", "nightly"] + common())
          try await lab.command(["nas-up"])
          guard fallback.status == 0, fallback.output.contains("NAS NOT USABLE") else {
            return "exit \(fallback.status): \(fallback.output.suffix(400))"
          }
          let held = try await server.runChecked(
            .shell("ls /var/backups/nexus-fallback/daily/ | grep -c '^nexus_.*dump$' || true")
          ).stdoutText
          let rerun = try await CLIProcess.run(["routine", "nightly"] + common())
          let still = try await server.runChecked(
            .shell("ls /var/backups/nexus-fallback/daily/ | grep -c '^nexus_.*dump$' || true")
          ).stdoutText
          // The test's own clean-up (the nas-failure runbook would move them): health stays as it was.
          _ = try await server.run(
            .shell("rm -rf /var/backups/nexus-fallback/daily/* /var/backups/nexus-fallback/clarity/*"))
          guard rerun.status == 0 else { return "rerun ended \(rerun.status)" }
          return held == still && held.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
            ? nil : "the fallback's dump did not survive the rerun (\(held) → \(still))"
        }
        await check("nightly", "nas", "NAS full", recovery: "room made, resume or rerun") {
          try await nasFull("nightly", answers: answers, server: server)
        }
        await check("nightly", "nas", "server's host key changed", recovery: "the right known_hosts, rerun") {
          _ = try await local.runChecked(
            .argv(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", state.file("other-key")]))
          let other = try String(contentsOfFile: state.file("other-key.pub"), encoding: .utf8)
          let address = try lab.value("SERVER_IP")
          let original = try String(contentsOfFile: lab.knownHosts, encoding: .utf8)
          let changed =
            original.split(separator: "\n").map { line -> String in
              line.hasPrefix("\(address) ") && line.contains("ssh-ed25519")
                ? "\(address) \(other.split(separator: " ").prefix(2).joined(separator: " "))" : String(line)
            }.joined(separator: "\n") + "\n"
          let knownHosts = try state.write("known_hosts-changed", changed)
          let inventory = try state.write(
            "inventory-changed.yaml",
            try String(contentsOfFile: lab.inventoryPath, encoding: .utf8).replacingOccurrences(
              of: lab.knownHosts, with: knownHosts))
          let refused = try await CLIProcess.run(["routine", "nightly"] + common(inventory: inventory))
          guard refused.status == 1, refused.output.contains("HOST KEY CHANGED") else {
            return "exit \(refused.status): \(refused.output.suffix(400))"
          }
          let rerun = try await CLIProcess.run(["routine", "nightly"] + common())
          return rerun.status == 0 ? nil : "rerun ended \(rerun.status)"
        }
      }
      try await cleanUp()
    }

    @Test("weekly: kill -9 at every step (start, and after its command), PostgreSQL stopped, the NAS full")
    func weekly() async throws {
      try await Lab.command(["up"])
      let answers = try answers("weekly")
      _ = try await CLIProcess.run(["routine", "nightly"] + common())
      for step in ["nas", "base", "wal-prune", "restore-test"] {
        for phase in ["after-start", "after-command"] {
          await check("weekly", step, "nexus-dr killed (\(phase))", recovery: "resume") {
            try await killAndResume(
              "weekly", arguments: ["routine", "weekly"], step: step, phase: phase, answers: answers)
          }
        }
      }
      try await lab.withSSH("server") { server in
        await check("weekly", "base", "PostgreSQL stopped", recovery: "start it, resume") {
          _ = try await server.runChecked(.argv(["systemctl", "stop", "postgresql"]))
          let failed = try await CLIProcess.run(["routine", "weekly"] + common())
          _ = try await server.runChecked(.argv(["systemctl", "start", "postgresql"]))
          guard failed.status == 1 else { return "exit \(failed.status), expected 1: \(failed.output.suffix(400))" }
          #expect(
            try await eventually(within: .seconds(60)) {
              (try? await PGConnection.with(conninfo: try lab.conninfo()) { _ in }) != nil
            })
          let resumed = try await CLIProcess.run(["resume", "--answers", answers] + common())
          return resumed.status == 0 ? nil : "resume ended \(resumed.status): \(resumed.output.suffix(400))"
        }
        await check("weekly", "base", "NAS full", recovery: "room made, resume or rerun") {
          try await nasFull("weekly", answers: answers, server: server)
        }
      }
      try await cleanUp()
    }

    @Test(
      "corrupt-db: a real DROP TABLE, kill -9 at every step (start, and after its command), resume: the table back, nothing acknowledged before the drop missing"
    )
    func corruptDB() async throws {
      try await Lab.command(["up"])
      for arguments in [["routine", "nightly"], ["routine", "weekly"]] {
        #expect(try await CLIProcess.run(arguments + common()).status == 0)
      }
      let answers = try answers(
        "corrupt-db",
        extra:
          "choose.choose-restore-point: pitr-target\nconfirm.stop-services: yes\nconfirm.pitr: yes\nmanual.confirm-resync: done\n"
      )
      // Each recovery gives up what was acknowledged after its target: count from the end of the last case.
      var windowStart = Date()
      for step in [
        "choose-restore-point", "stop-services", "set-aside", "restore", "pitr", "verify", "start-services",
        "sync-resumes", "confirm-resync",
      ] {
        for phase in ["after-start", "after-command"] {
          await check("corrupt-db", step, "nexus-dr killed (\(phase))", recovery: "resume") {
            let (target, promised) = try await dropTable(since: windowStart)
            let problem = try await killAndResume(
              "corrupt-db", arguments: ["corrupt-db", "--yes", "--target-time", target], step: step, phase: phase,
              answers: answers)
            defer { windowStart = Date() }
            if let problem { return problem }
            return try await recovered(promised)
          }
        }
      }
      try await lab.withSSH("server") { server in
        await check(
          "corrupt-db", "preflight", "NAS unmounted", recovery: "refused before anything changes; the NAS back"
        ) {
          try await lab.command(["nas-down"])
          let refused = try await CLIProcess.run(["corrupt-db", "--yes", "--answers", answers] + common())
          try await lab.command(["nas-up"])
          guard refused.status == 3, refused.output.contains("The NAS is mounted") else {
            return "exit \(refused.status), expected 3 naming the NAS: \(refused.output.suffix(400))"
          }
          let services = try await server.run(.argv(["systemctl", "is-active", "nexus-api"])).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
          guard services == "active" else { return "the services were touched: nexus-api \(services)" }
          return latestRun("corrupt-db")?.records.contains { $0.type == .stepStarted } == true
            && latestRun("corrupt-db")?.state(lockHeldByThisRun: false) != .completed
            ? "a step started" : nil
        }
        await check(
          "corrupt-db", "pitr", "NAS unmounted (after the restore point was chosen and the services stopped)",
          recovery: "the NAS back, resume"
        ) {
          let (target, promised) = try await dropTable(since: windowStart)
          let crashed = try await CLIProcess.run(
            ["corrupt-db", "--yes", "--target-time", target, "--answers", answers] + common(),
            environment: ["NEXUS_DR_CRASH_AT": "pitr:after-start"])
          guard crashed.status == 128 + SIGKILL else {
            return "not killed before the recovery: \(crashed.status) \(crashed.output.suffix(300))"
          }
          try await lab.command(["nas-down"])
          let failed = try await CLIProcess.run(["resume", "--answers", answers] + common())
          try await lab.command(["nas-up"])
          defer { windowStart = Date() }
          guard failed.status == 1, failed.output.contains("✘ [5/9] pitr"),
            failed.output.contains("the NAS is not mounted")
          else {
            return "exit \(failed.status), expected 1 with the NAS named: \(failed.output.suffix(600))"
          }
          let resumed = try await CLIProcess.run(["resume", "--answers", answers] + common())
          guard resumed.status == 0 else { return "resume ended \(resumed.status): \(resumed.output.suffix(600))" }
          return try await recovered(promised)
        }
        await check(
          "corrupt-db", "choose-restore-point", "PostgreSQL stopped (down with the damage)",
          recovery: "the run itself (PITR does not need it running)"
        ) {
          let (target, promised) = try await dropTable(since: windowStart)
          _ = try await server.runChecked(.argv(["systemctl", "stop", "postgresql"]))
          let run = try await CLIProcess.run(
            ["corrupt-db", "--yes", "--target-time", target, "--answers", answers] + common())
          defer { windowStart = Date() }
          guard run.status == 0 else {
            _ = try? await server.run(.argv(["systemctl", "start", "postgresql"]))
            return "exit \(run.status): \(run.output.suffix(600))"
          }
          return try await recovered(promised)
        }
      }
      try await Lab.command(["reset"])
    }

    /// A real DROP TABLE; returns the database's clock at the drop (the recovery target) and the
    /// records ipad-1 had acknowledged since `since` and before the drop.
    func dropTable(since: Date) async throws -> (String, [Int64]) {
      try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
        let target = try #require(
          try await postgres.query(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS t"
          ).first?["t"])
        let targetDate = try #require(JournalTime.parse(target))
        let promised = try AcknowledgementLog.read(try lab.value("ACKED_LOG")).filter {
          $0.at < targetDate && $0.at > since
        }.map(\.seq)
        try await postgres.query("DROP TABLE public.appointments CASCADE")
        return (target, promised)
      }
    }

    /// The dropped table is back and none of `promised` is missing; nil when so.
    func recovered(_ promised: [Int64]) async throws -> String? {
      let (table, present) = try await PGConnection.with(conninfo: try lab.conninfo()) { restored in
        let table = try await restored.query("SELECT to_regclass('public.appointments')::text AS t").first?["t"]
        let present = Set(
          try await restored.query("SELECT seq FROM staging.sync_inbox WHERE device = 'ipad-1'").rows.compactMap {
            try? $0.decode(Int64.self, "seq")
          })
        return (table, present)
      }
      guard table == "appointments" else { return "the table is not back" }
      let missing = promised.filter { !present.contains($0) }
      return missing.isEmpty ? nil : "acknowledged before the drop, missing: \(missing.prefix(10))"
    }

    @Test(
      "server-failure: kill -9 at every step, one after the other, each time resumed: the server rebuilt, nothing acknowledged up to the restore point missing"
    )
    func serverFailureChain() async throws {
      let suite = try ServerFailureLabTests()
      let before = try await suite.destroyServer()
      let scenario = try String(contentsOfFile: try suite.answers(before), encoding: .utf8)
      let answers = try suite.state.write(
        "answers-chain.yaml",
        try FaultMatrix.resumeAnswers(repository: repository, runbook: "server-failure") + scenario + "\n")
      let arguments = ["--answers", answers] + suite.common(before.lab)
      try await FaultMatrix.killChain(
        "server-failure", repository: repository, stateDirectory: suite.state.path,
        run: ["server-failure", "--secrets-dir", "\(before.lab.directory)/secure-storage/nexus-server"] + arguments,
        resume: ["resume"] + arguments
      ) {
        guard let recoveredTo = ServerFailureLabTests.parseTime(try suite.outputs("restore")["recovered_to"] ?? "")
        else { return "no restore point in the report" }
        let present = try await PGConnection.with(conninfo: try before.lab.conninfo()) { postgres in
          Set(
            try await postgres.query("SELECT seq FROM staging.sync_inbox WHERE device = 'ipad-1'").rows.compactMap {
              try? $0.decode(Int64.self, "seq")
            })
        }
        let missing = before.acked.filter { $0.at <= recoveredTo && !present.contains($0.seq) }.map(\.seq)
        return missing.isEmpty
          ? nil : "acknowledged up to the restore point \(recoveredTo), missing: \(missing.prefix(10))"
      }
      try await suite.checkRecovered(before)
      try await Lab.command(["reset"])
    }

    @Test(
      "gateway-failure: kill -9 at every step, one after the other, each time resumed: the standby is the gate, nothing acknowledged before the failure missing"
    )
    func gatewayFailureChain() async throws {
      let suite = try GatewayFailureLabTests()
      let before = try await suite.failGate()
      let answers = try suite.state.write(
        "answers-chain.yaml",
        try FaultMatrix.resumeAnswers(repository: repository, runbook: "gateway-failure")
          + "confirm.install-config: yes\nmanual.old-gate: done\n")
      let arguments = ["--answers", answers] + suite.common
      try await FaultMatrix.killChain(
        "gateway-failure", repository: repository, stateDirectory: suite.state.path,
        run: ["gateway-failure", "--key-file", try suite.keyFile] + arguments, resume: ["resume"] + arguments
      ) {
        let missing = try await suite.missing(before)
        return missing.isEmpty ? nil : "acknowledged before the failure, missing: \(missing.prefix(10))"
      }
      try await suite.checkTakenOver(acknowledgedBefore: before)
      try await suite.checkNoSecrets()
      try await lab.command(["gate-up"])
    }

    @Test(
      "nas-failure: kill -9 at every step, one after the other, each time resumed: everything the fallback held is on the NAS, byte for byte"
    )
    func nasFailureChain() async throws {
      let suite = try NASFailureLabTests()
      try await lab.withSSH("server") { server in
        let expected = try await suite.failNAS(server, daysAgo: 3)
        try await lab.command(["nas-up"])
        let answers = try suite.state.write(
          "answers-chain.yaml",
          try FaultMatrix.resumeAnswers(repository: repository, runbook: "nas-failure")
            + "manual.replace-nas: done\nconfirm.copy-back: yes\n")
        let arguments = ["--answers", answers] + suite.common
        try await FaultMatrix.killChain(
          "nas-failure", repository: repository, stateDirectory: suite.state.path,
          run: ["nas-failure"] + arguments, resume: ["resume"] + arguments
        ) {
          let onNAS = try await suite.checksums(server, nas)
          let wrong = expected.filter { onNAS[$0.key] != $0.value }.map(\.key)
          return wrong.isEmpty ? nil : "not on the NAS as the fallback held them: \(wrong.sorted().prefix(10))"
        }
        try await suite.checkMoved(server, expected)
        await check("nas-failure", "nas", "the replacement NAS full", recovery: "room made, resume") {
          let held = try await suite.failNAS(server, daysAgo: 4)
          try await lab.command(["nas-up"])
          try await lab.command(["nas-fill", "2MiB"])
          let full = try await CLIProcess.run(["nas-failure"] + arguments)
          try await lab.command(["nas-unfill"])
          guard full.status == 1, full.output.contains("✘") else {
            return "exit \(full.status), expected 1: \(full.output.suffix(500))"
          }
          let still = try await suite.checksums(server, "/var/backups/nexus-fallback")
          guard still.count == held.count else {
            return "the fallback changed while the NAS was full: \(held.count) → \(still.count) files"
          }
          guard full.output.contains("less than min_free") else {
            return "the message does not say the NAS is full: \(full.output.suffix(500))"
          }
          let resumed = try await CLIProcess.run(["resume"] + arguments)
          guard resumed.status == 0 else { return "resume ended \(resumed.status): \(resumed.output.suffix(500))" }
          let onNAS = try await suite.checksums(server, nas)
          let wrong = held.filter { onNAS[$0.key] != $0.value }.map(\.key)
          return wrong.isEmpty ? nil : "not on the NAS as the fallback held them: \(wrong.sorted().prefix(10))"
        }
      }
    }

    /// nexus-server's link goes down while the nightly's pg_dump runs (held on a lock the test
    /// takes, so the command is certainly running when the cable is "pulled"): with keepalives of
    /// 2 s the step fails within a few seconds, exit 1, saying the connection broke; the link
    /// back and the lock released, `resume` reruns the dump and completes.
    func linkDownDuringDump(answers: String) async throws -> String? {
      let text = try String(contentsOfFile: lab.inventoryPath, encoding: .utf8)
      let changed = text.replacingOccurrences(of: "connect_timeout: 5s }", with: "connect_timeout: 5s, keepalive: 2s }")
        .replacing(#/(database: +\{[^}\n]*)\}/#) { "\($0.output.1), keepalive: 2s }" }
      guard changed.components(separatedBy: "keepalive: 2s").count == 3 else {
        return "could not set the keepalives in the lab inventory"
      }
      let inventory = try state.write("inventory-keepalive.yaml", changed)
      // The nightly, its exit status (nil: pg_dump never waited on the lock) and how long the cut took to notice.
      let (nightly, exit, detected) = try await PGConnection.with(conninfo: try lab.conninfo()) {
        holder -> (CLIProcess, Int32?, Duration) in
        try await holder.query("BEGIN")
        try await holder.query("LOCK TABLE public.appointments IN ACCESS EXCLUSIVE MODE")
        let nightly = try CLIProcess(["routine", "nightly"] + common(inventory: inventory))
        let waiting = try await PGConnection.with(conninfo: try lab.conninfo()) { watcher in
          try await eventually(within: .seconds(120)) {
            let rows = try await watcher.query(
              "SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'"
            )
            return (rows.first?["n"] ?? "0") != "0"
          }
        }
        guard waiting else {
          try await holder.query("ROLLBACK")
          _ = await nightly.wait()
          return (nightly, nil, .zero)
        }
        let clock = ContinuousClock()
        let cut = clock.now
        try await lab.command(["server-link-down"])
        let status = await nightly.wait()
        let detected = clock.now - cut
        try await lab.command(["server-link-up"])
        try await holder.query("ROLLBACK")
        return (nightly, status, detected)
      }
      guard let status = exit else { return "pg_dump never waited on the test's lock: \(nightly.output.suffix(400))" }
      print("fault matrix: link down during the dump noticed after \(detected) (keepalive 2 s), exit \(status)")
      guard status == 1 else { return "exit \(status), expected 1: \(nightly.output.suffix(600))" }
      guard nightly.output.contains("✘ [2/9] dump"), nightly.output.contains("connection") else {
        return "the dump step did not fail with a clear message: \(nightly.output.suffix(600))"
      }
      let resumed = try await CLIProcess.run(["resume", "--answers", answers] + common())
      guard resumed.status == 0 else { return "resume ended \(resumed.status): \(resumed.output.suffix(600))" }
      guard let history = latestRun("nightly"), history.state(lockHeldByThisRun: false) == .completed else {
        return "the journal does not say completed"
      }
      return nil
    }

    /// The NAS with 2 MiB left: below min_free the routine writes to the fallback (exit 0, said);
    /// a write that fills it fails the step (exit 1, `No space left`). Then room is made and the
    /// run resumed or rerun; whatever went to the fallback is still there.
    func nasFull(_ routine: String, answers: String, server: SSHTransport) async throws -> String? {
      try await lab.command(["nas-fill", "2MiB"])
      let full = try await CLIProcess.run(["routine", routine] + common())
      try await lab.command(["nas-unfill"])
      let fellBack = full.status == 0 && full.output.contains("less than min_free")
      guard fellBack || (full.status == 1 && full.output.contains("No space left")) else {
        return "exit \(full.status), neither the fallback nor a clear failure: \(full.output.suffix(400))"
      }
      let held = try await server.runChecked(
        .shell("find /var/backups/nexus-fallback -type f -not -path '*/wal-spool/*' | wc -l")
      ).stdoutText
      let again = try await CLIProcess.run(
        (fellBack ? ["routine", routine] : ["resume", "--answers", answers]) + common())
      let still = try await server.runChecked(
        .shell("find /var/backups/nexus-fallback -type f -not -path '*/wal-spool/*' | wc -l")
      ).stdoutText
      // The test's own clean-up (the nas-failure runbook would move them): health stays as it was.
      _ = try await server.run(
        .shell(
          "rm -rf /var/backups/nexus-fallback/daily/* /var/backups/nexus-fallback/clarity/* /var/backups/nexus-fallback/base/* /var/backups/nexus-fallback/restore-test/*"
        ))
      guard again.status == 0 else { return "after room was made: exit \(again.status): \(again.output.suffix(400))" }
      return held == still ? nil : "the fallback's files did not survive (\(held) → \(still))"
    }

    /// The matrix leaves today's backups, as a night would; nothing else to undo.
    func cleanUp() async throws {}
  }
}
