import ArgumentParser
import Foundation
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTransport

#if canImport(Glibc)
  import Glibc
#endif

/// `nexus-dr rehearse SCENARIO`: a drill in staging or the lab. Breaks the environment for
/// real, runs the scenario's runbook, verifies, and measures the recovery time (failure
/// injected → service verified) and the data lost (records the witness device had
/// acknowledged that are gone) against the inventory's objectives.
struct RehearseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rehearse",
    abstract: "Rehearse a disaster in staging or the lab: break it for real, recover with the runbook, measure recovery time and data loss.",
    discussion: """
      Refuses production, and any environment whose hosts or database resolve to production's
      (exit 2, nothing touched). Asks before breaking anything (question confirm.rehearse; --yes).
      The runbook's questions are answered from the inventory's rehearsal section, the repair
      command's `answer ID VALUE` lines and --answers; with --interactive the operator answers
      them at the terminal. Results: STATE/rehearsals/ID/ (rehearsal.json, report.md,
      report.html); `nexus-dr health` reports each scenario's last rehearsal.
      Exit: 0 recovered and verified (objectives reported), 1 not recovered or not verified,
      2 invalid or refused, 4 declined, 5 another run holds the lock. See docs/rehearsals.md.
      """)

  @OptionGroup var options: CommonOptions
  @Argument(help: "corrupt-db, server-failure, gateway-failure or nas-failure.") var scenario: String
  @Flag(help: "Answer the runbook's questions at the terminal (a drill for the operator, not only the runbook).")
  var interactive = false

  func run() async throws {
    guard RehearsalSpec.scenarios.contains(scenario) else {
      Console.error("error: no scenario '\(scenario)' to rehearse; one of: \(RehearsalSpec.scenarios.joined(separator: ", "))")
      throw ExitCode(RunExit.invalidInput.rawValue)
    }
    let (inventory, environment) = try options.loadEnvironment()
    let refusals = RehearsalGuard.refusals(environment: environment, inventory: inventory)
    guard refusals.isEmpty else {
      Console.error("error: rehearse refused in environment '\(environment.name)', nothing was touched:")
      for refusal in refusals { Console.error("  - \(refusal)") }
      Console.error("  hint: a rehearsal breaks what it rehearses; point it at a staging environment of its own (\(inventory.source))")
      throw ExitCode(RunExit.invalidInput.rawValue)
    }
    let runbook = try options.loadRunbook(scenario)
    let drill = try Drill(
      scenario: scenario, environment: environment, inventorySource: inventory.source, stateDirectory: options.stateDirectory,
      nightly: scenario == "nas-failure" ? try options.loadRunbook("nightly") : nil)
    if let holder = RunLock.holder(stateDirectory: options.stateDirectory, environment: environment.name) {
      Console.error("error: run \(holder.runID) (pid \(holder.pid)) holds the lock for \(environment.name); nothing was broken")
      throw ExitCode(RunExit.locked.rawValue)
    }

    let base = try options.runOptions()
    let console = ConsoleOutput(color: options.useColor)
    // Ready? The runbook's own checks, but for those that need the failure (the host down,
    // the fallback holding backups): a drill that cannot recover is not started.
    console.heading("Is \(environment.name) ready for this drill? (the runbook's checks that do not need the failure)")
    var ready = runbook
    ready.preflight = runbook.preflight.filter { check in
      if case .hostDown = check.probe { return false }
      return !Drill.failureChecks.contains(check.id)
    }
    var readyOptions = base
    readyOptions.inputs = drill.spec.inputs
    let readyOK = await RunEngine(runbook: ready, environment: environment, options: readyOptions).preflightOnly()
    let backupsOK = await drill.backupsReady(answers: base.answers, console: console)
    if readyOK != .done || !backupsOK {
      Console.error("error: \(environment.name) is not ready to rehearse \(scenario) (above); nothing was broken")
      throw ExitCode(RunExit.checkFailed.rawValue)
    }
    console.line("")
    console.heading("Rehearsal of \(scenario) in \(environment.name)")
    for line in drill.plan { console.line("  " + line) }
    let prompter = Prompter(answers: base.answers, assumeYes: options.yes, interactive: base.interactive, console: console)
    do {
      let answer = try await prompter.ask(
        Question(id: "confirm.rehearse", text: "Break \(environment.name) now, for real, and recover it?", kind: .confirm))
      guard answer.value == "yes" else {
        console.line("Declined; nothing was touched.")
        throw ExitCode(RunExit.declined.rawValue)
      }
    } catch let failure as StepFailure {
      Console.error("error: \(failure.message)")
      throw ExitCode(RunExit.declined.rawValue)
    }

    let exit = await withInterruptHandling {
      await drill.perform(runbook: runbook, base: base, interactive: interactive && base.interactive, console: console)
    }
    if exit != .done { throw ExitCode(exit.rawValue) }
  }
}

/// One rehearsal: what to break and how, then the measurement. Its commands are argument arrays
/// run on this machine; what it prints and keeps passes through the redactor.
struct Drill: Sendable {
  let scenario: String
  let environment: Environment
  let spec: RehearsalSpec.Scenario
  let acknowledgements: RehearsalSpec.Acknowledgements?
  /// corrupt-db's built-in injection: `schema.table`.
  let dropTable: (schema: String, table: String)?
  let stateDirectory: String
  /// nas-failure: the nightly that runs while the NAS is away.
  let nightly: Runbook?
  let local = LocalTransport()

  init(scenario: String, environment: Environment, inventorySource: String, stateDirectory: String, nightly: Runbook?) throws {
    self.scenario = scenario
    self.environment = environment
    self.stateDirectory = stateDirectory
    self.nightly = nightly
    spec = environment.rehearsal?.scenarios[scenario] ?? .init()
    acknowledgements = environment.rehearsal?.acknowledgements
    if scenario == "corrupt-db" && spec.inject == nil {
      // The loader checked the form (schema.table, never staging) with the file and line.
      let name = spec.dropTable ?? "public.appointments"
      let parts = name.split(separator: ".").map(String.init)
      let schema = parts.count == 2 ? parts[0] : "public"
      dropTable = (schema, parts.last!)
      guard environment.database != nil else {
        Console.error("error: \(inventorySource): environment '\(environment.name)' has no database to break")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
    } else {
      dropTable = nil
      guard spec.inject != nil else {
        Console.error(
          "error: \(inventorySource): environment '\(environment.name)' does not say how to break it for \(scenario): rehearsal.scenarios.\(scenario).inject\n  hint: the command that \(Self.failureWords[scenario]?.does ?? "breaks it") (a hypervisor's power-off, a switch port down), as an argument array; see docs/rehearsals.md"
        )
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
    }
    if let acknowledgements {
      do { _ = try AcknowledgementLog.read(acknowledgements.log) } catch {
        Console.error("error: \(error)")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
    }
  }

  /// Preflight checks that hold only once the failure is there.
  static let failureChecks: Set<String> = ["server-down", "gate-down", "fallback-holds"]

  /// Each scenario's failure in words: what the injection does (a verb), and what it leaves (a noun phrase).
  static let failureWords: [String: (does: String, leaves: String)] = [
    "corrupt-db": ("damages the database", "the database damaged"),
    "server-failure": ("destroys nexus-server", "nexus-server destroyed"),
    "gateway-failure": ("cuts nexus-gate off", "nexus-gate cut off"),
    "nas-failure": ("unmounts the NAS", "the NAS unmounted while the nightly runs"),
  ]

  var failure: String {
    if let dropTable { return "an accidental DROP TABLE \(dropTable.schema).\(dropTable.table) CASCADE on \(environment.database?.name ?? "the database")" }
    return "\(Self.failureWords[scenario]?.leaves ?? scenario) (\(ShellQuote.commandLine(spec.inject ?? [])))"
  }

  var plan: [String] {
    var lines = ["This breaks \(environment.name) for real: \(failure)."]
    if scenario == "nas-failure" { lines.append("Then the nightly runs while the NAS is away (its backups go to the fallback).") }
    if let repair = spec.repair { lines.append("Then the repair a person would make: \(ShellQuote.commandLine(repair)).") }
    lines.append("Then runbooks/\(scenario).yaml recovers it; the rehearsal verifies the service and measures:")
    lines.append("  recovery time (failure → service verified) against the RTO \(environment.objectives.map { DurationText.format($0.rto) } ?? "(none set)")")
    if let acknowledgements {
      lines.append("  data lost: records \(acknowledgements.device) had acknowledged (\(acknowledgements.log)) that are gone, against the RPO \(environment.objectives.map { DurationText.format($0.rpo) } ?? "(none set)")")
    } else {
      lines.append("  data lost: not measured (no rehearsal.acknowledgements in the inventory)")
    }
    if let restore = spec.restore { lines.append("Afterwards the environment is put back: \(ShellQuote.commandLine(restore)).") }
    return lines
  }

  // MARK: The drill

  func perform(runbook: Runbook, base: RunOptions, interactive: Bool, console: ConsoleOutput) async -> RunExit {
    var result = RehearsalResult(
      id: RehearsalStore.newID(scenario: scenario, environment: environment.name), scenario: scenario,
      environment: environment.name, operatorName: base.operatorName, toolVersion: base.toolVersion, failure: failure,
      injectedAt: Date())
    result.rtoMs = environment.objectives.map { $0.rto.milliseconds }
    result.rpoMs = environment.objectives.map { $0.rpo.milliseconds }

    // Before: what the witness had acknowledged and what of it the database holds.
    var baseline: (present: Set<Int64>, at: Date)?
    if acknowledgements != nil {
      do {
        baseline = (try await presentRecords(device: acknowledgements!.device), Date())
      } catch {
        console.error("error: before breaking anything, the database must answer (to know what it holds): \(error)\n  nothing was touched")
        return .checkFailed
      }
    }

    // Break it.
    console.heading("\nInjecting the failure: \(failure)")
    let injected = Date()
    result.injectedAt = JournalTime.format(injected)
    var inputs = spec.inputs
    var answers = interactive ? [:] : spec.answers
    var droppedRows: Int64?
    // When the failure is in effect: what was acknowledged up to then was promised before it.
    // The recorded time of the drop; for a host or the NAS, when the injection returned.
    var failureAt = injected
    do {
      if let dropTable {
        let (rows, at) = try await drop(dropTable)
        droppedRows = rows
        failureAt = at
        inputs["target_time"] = JournalTime.format(at)
        if !interactive && answers["choose.choose-restore-point"] == nil { answers["choose.choose-restore-point"] = "pitr-target" }
        result.failure = "\(failure) (\(rows) rows)"
        console.line("  dropped \(dropTable.schema).\(dropTable.table) (\(rows) rows) at \(JournalTime.format(at)); the recovery may target that time")
      } else if let inject = spec.inject {
        _ = try await hook(inject, console: console)
        failureAt = Date()
      }
    } catch {
      console.error("error: the failure could not be injected: \(error)")
      result.phases.append(.init(label: "Failure injected", kind: "injection", status: "failed", startMs: 0, durationMs: since(injected)))
      result.runState = "not started (injection failed)"
      result.checks.append("FAILED: the injection: \(error)")
      return finish(&result, console: console, exit: .stepFailed)
    }
    result.phases.append(.init(label: "Failure injected", kind: "injection", status: "completed", startMs: 0, durationMs: since(injected)))
    result.failureAt = JournalTime.format(failureAt)

    // nas-failure: the nightly runs while the NAS is away.
    if scenario == "nas-failure" {
      let started = Date()
      console.heading("\nThe nightly runs while the NAS is away")
      let nightly = await inner(self.nightly!, inputs: [:], answers: [:], base: base, interactive: false)
      result.phases.append(
        .init(label: "Nightly during the outage (to the fallback)", kind: "outage", status: nightly.exit == .done ? "completed" : "failed",
          startMs: offset(started, from: injected), durationMs: since(started)))
      if nightly.exit != .done { result.checks.append("FAILED: the nightly during the outage ended \(nightly.exit) (run \(nightly.runID ?? "?"))") }
    }

    // The repair a person makes (a new machine, a new NAS).
    if let repair = spec.repair {
      let started = Date()
      console.heading("\nRepair: \(ShellQuote.commandLine(repair))")
      do {
        let output = try await hook(repair, console: console)
        if !interactive {
          for line in output.split(separator: "\n") where line.hasPrefix("answer ") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            if fields.count == 3 { answers[fields[1]] = fields[2] }
          }
        }
        result.phases.append(.init(label: "Repair: \(Self.shortCommand(repair))", kind: "repair", status: "completed", startMs: offset(started, from: injected), durationMs: since(started)))
      } catch {
        console.error("error: the repair failed: \(error)")
        result.phases.append(.init(label: "Repair: \(Self.shortCommand(repair))", kind: "repair", status: "failed", startMs: offset(started, from: injected), durationMs: since(started)))
        result.runState = "not started (repair failed)"
        result.checks.append("FAILED: the repair: \(error)")
        return finish(&result, console: console, exit: .stepFailed)
      }
    }

    // Recover with the scenario's runbook; the operator's --answers win.
    for (key, value) in base.answers { answers[key] = value }
    console.heading("\nRecovering with runbooks/\(scenario).yaml")
    let recovery = await inner(runbook, inputs: inputs, answers: answers, base: base, interactive: interactive)
    result.runID = recovery.runID
    if let runID = recovery.runID, let history = try? RunHistory.read(directory: RunDirectory(stateDirectory: stateDirectory, runID: runID).path) {
      let report = RunReport.build(history: history, runbook: runbook)
      result.runState = report.state
      let runStart = history.startTime ?? injected
      for step in report.steps where step.status != "not run" {
        result.phases.append(
          .init(label: step.title, kind: "step", status: step.status,
            startMs: offset(runStart, from: injected) + step.startOffsetMs, durationMs: step.durationMs))
      }
      let end = history.lastTime ?? Date()
      result.recoveredAt = JournalTime.format(end)
      result.recoveryMs = offset(end, from: injected)
    } else {
      result.runState = "not started (exit \(recovery.exit.rawValue))"
      result.recoveryMs = since(injected)
    }
    if acknowledgements == nil { result.dataLossNote = "not measured (the inventory names no rehearsal.acknowledgements)" }
    else if result.runState != "completed" { result.dataLossNote = "not measured (not recovered)" }

    // Verify, and measure what was lost.
    if result.runState == "completed" {
      await verify(&result, droppedRows: droppedRows, baseline: baseline, failureAt: failureAt, console: console)
    } else {
      result.checks.append("FAILED: the recovery run \(recovery.runID ?? "") ended \(result.runState); `nexus-dr resume` continues it")
    }

    // Put the environment back in its usual shape (after the measurement).
    if let restore = spec.restore {
      console.heading("\nPutting \(environment.name) back: \(ShellQuote.commandLine(restore))")
      do {
        _ = try await hook(restore, console: console)
        result.checks.append("afterwards, \(environment.name) was put back: \(Self.shortCommand(restore))")
      } catch {
        result.checks.append("afterwards, putting \(environment.name) back failed: \(error)")
      }
    }
    return finish(&result, console: console, exit: recovery.exit == .done ? .done : recovery.exit)
  }

  func verify(
    _ result: inout RehearsalResult, droppedRows: Int64?, baseline: (present: Set<Int64>, at: Date)?,
    failureAt: Date, console: ConsoleOutput
  ) async {
    guard let database = environment.database else {
      result.checks.append("the recovery run completed (no database in the inventory to check)")
      result.verified = true
      return
    }
    var ok = true
    do {
      let connection = try await PGConnection.connect(conninfo: database.conninfo())
      let recovering: String
      do { recovering = try await connection.query("SELECT pg_is_in_recovery()::text AS r").first?["r"] ?? "?" } catch {
        await connection.close()
        throw error
      }
      if recovering == "false" {
        result.checks.append("\(database.name) answers and accepts writes (not in recovery)")
      } else {
        ok = false
        result.checks.append("FAILED: \(database.name) is still in recovery")
      }
      if let dropTable, let droppedRows {
        let rows = try? await connection.query(
          "SELECT count(*)::text AS n FROM \(identifier: dropTable.schema).\(identifier: dropTable.table)"
        ).first?["n"].flatMap { Int64($0) }
        if let rows, rows >= droppedRows {
          result.checks.append("\(dropTable.schema).\(dropTable.table) is back with \(rows) rows (\(droppedRows) before the drop)")
        } else {
          ok = false
          result.checks.append("FAILED: \(dropTable.schema).\(dropTable.table) is \(rows.map { "back with only \($0) rows of \(droppedRows)" } ?? "not back")")
        }
      }
      await connection.close()
    } catch {
      ok = false
      result.checks.append("FAILED: \(database.name) does not answer after the recovery: \(error)")
    }
    if let acknowledgements, let baseline {
      do {
        let present = try await presentRecords(device: acknowledgements.device)
        let entries = try AcknowledgementLog.read(acknowledgements.log)
        let loss = AcknowledgementLog.loss(
          device: acknowledgements.device, entries: entries, baselineTakenAt: baseline.at,
          presentBefore: baseline.present, failure: failureAt,
          recovered: JournalTime.parse(result.recoveredAt) ?? Date(), presentAfter: present)
        result.dataLoss = loss
        result.checks.append("\(loss.lost) of the \(loss.acknowledged) records \(loss.device) had acknowledged before the failure are missing")
        // The service works end to end: the witness is acknowledged again.
        let count = entries.count
        let deadline = Date().addingTimeInterval(120)
        var now = count
        while now <= count && Date() < deadline {
          try await Task.sleep(for: .milliseconds(500))
          now = try AcknowledgementLog.read(acknowledgements.log).count
        }
        if now > count {
          result.checks.append("\(acknowledgements.device)'s records are acknowledged again (\(now - count) new)")
        } else {
          ok = false
          result.checks.append("FAILED: \(acknowledgements.device) got no acknowledgement in the 120 s after the recovery")
        }
      } catch {
        ok = false
        result.checks.append("FAILED: measuring the data loss: \(error)")
      }
    }
    result.verified = ok
  }

  func finish(_ result: inout RehearsalResult, console: ConsoleOutput, exit: RunExit) -> RunExit {
    result.conclude()
    console.line("")
    for line in RehearsalReport.summary(result) { console.line(line) }
    do {
      let html = try RehearsalStore.save(result, stateDirectory: stateDirectory)
      console.line("Report: \(html) (and report.md beside it, for the wiki)")
    } catch {
      console.error("error: the rehearsal's result could not be kept: \(error)")
    }
    if exit == .interrupted { return exit }
    return result.outcome == .failed ? .stepFailed : .done
  }

  /// What the recovery will need from the NAS, checked while the server still runs (the
  /// runbook looks for it only after the failure, when a missing piece is too late to find).
  static let needs: [String: [(title: String, script: String)]] = [
    "server-failure": [
      ("a config snapshot of the server on the NAS (nexus-dr run config-snapshot)", #"ls -1d "$1"/config/*/server 2>/dev/null | tail -n 1 | grep ."#),
      ("a restore point on the NAS (a dump with its manifest, or a base backup)", #"ls -1 "$1"/daily/nexus_*.manifest.json "$1"/base/*/backup_manifest 2>/dev/null | tail -n 1 | grep ."#),
    ],
    "gateway-failure": [
      ("a snapshot of the gate's configuration on the NAS (nexus-dr run config-snapshot)", #"ls -1d "$1"/config/*/gate/etc/wireguard 2>/dev/null | tail -n 1 | grep ."#)
    ],
    "corrupt-db": [
      ("a base backup on the NAS, for point in time (nexus-dr routine weekly)", #"ls -1 "$1"/base/*/backup_manifest 2>/dev/null | tail -n 1 | grep ."#)
    ],
  ]

  func backupsReady(answers: [String: String], console: ConsoleOutput) async -> Bool {
    guard var needs = Self.needs[scenario], !needs.isEmpty, let nas = environment.nas else { return true }
    if scenario == "corrupt-db" && (answers["choose.choose-restore-point"] ?? spec.answers["choose.choose-restore-point"]) == "dump" {
      needs = [("a dump with its manifest on the NAS (nexus-dr routine nightly)", #"ls -1 "$1"/daily/nexus_*.manifest.json 2>/dev/null | tail -n 1 | grep ."#)]
    }
    let transports = HostTransports(environment: environment)
    var ok = true
    for need in needs {
      do {
        let result = try await transports.transport(for: "server").run(.argv(["sh", "-c", need.script, "readiness", nas.path], timeout: .seconds(60)))
        let evidence = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        if result.succeeded {
          console.line("  [pass] \(need.title): \(evidence)")
        } else {
          console.line("  [FAIL] \(need.title): none found under \(nas.path)")
          ok = false
        }
      } catch {
        console.line("  [FAIL] \(need.title): \(error)")
        ok = false
      }
    }
    await transports.closeAll()
    return ok
  }

  // MARK: Helpers

  /// A scenario or routine runbook, run here like `nexus-dr run` would.
  func inner(_ runbook: Runbook, inputs: [String: String], answers: [String: String], base: RunOptions, interactive: Bool) async
    -> (exit: RunExit, runID: String?)
  {
    var options = base
    options.inputs = inputs
    options.answers = answers
    options.assumeYes = !interactive || base.assumeYes
    options.interactive = interactive
    let (exit, runID) = await RunEngine(runbook: runbook, environment: environment, options: options).start()
    return (exit, runID)
  }

  /// The seqs of the witness's records in the database.
  func presentRecords(device: String) async throws -> Set<Int64> {
    guard let database = environment.database else { return [] }
    let connection = try await PGConnection.connect(conninfo: database.conninfo())
    do {
      let rows = try await connection.query("SELECT seq::text AS seq FROM staging.sync_inbox WHERE device = \(device)")
      await connection.close()
      return Set(rows.rows.compactMap { $0["seq"].flatMap { Int64($0) } })
    } catch {
      await connection.close()
      throw error
    }
  }

  /// corrupt-db: the accidental drop, and the time just before it (the database's clock).
  func drop(_ table: (schema: String, table: String)) async throws -> (Int64, Date) {
    guard let database = environment.database else { throw RunError(.invalidInput, "no database") }
    let connection = try await PGConnection.connect(conninfo: database.conninfo())
    do {
      let row = try await connection.query(
        "SELECT count(*)::text AS n, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at FROM \(identifier: table.schema).\(identifier: table.table)"
      ).first
      guard let rows = row?["n"].flatMap({ Int64($0) }), let at = row?["at"].flatMap(JournalTime.parse) else {
        throw RunError(.invalidInput, "could not read \(table.schema).\(table.table) before dropping it")
      }
      try await connection.query("DROP TABLE \(identifier: table.schema).\(identifier: table.table) CASCADE")
      await connection.close()
      return (rows, at)
    } catch {
      await connection.close()
      throw error
    }
  }

  /// Runs an inventory command on this machine, its output shown as it comes; fails on a non-zero exit.
  func hook(_ argv: [String], console: ConsoleOutput) async throws -> String {
    let result = try await local.run(
      HostCommand(.argv(argv), timeout: .seconds(3600)),
      output: { stream, bytes in console.stream(stream, bytes) })
    console.flushStreams()
    guard result.succeeded else {
      throw RunError(.invalidInput, "\(ShellQuote.commandLine(argv)) ended \(result.termination): \(Redactor.redact(result.stderrTail))")
    }
    return result.stdoutText
  }

  static func shortCommand(_ argv: [String]) -> String {
    ([URL(fileURLWithPath: argv[0]).lastPathComponent] + argv.dropFirst()).joined(separator: " ")
  }

  func since(_ date: Date) -> Int64 { offset(Date(), from: date) }
  func offset(_ date: Date, from origin: Date) -> Int64 { Int64((date.timeIntervalSince(origin) * 1000).rounded()) }
}
