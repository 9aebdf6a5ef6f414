import Foundation
import NexusCore
import NexusTransport

/// One rehearsal in staging or the lab: what to break and how, then the recovery with the
/// scenario's runbook and the measurement of its recovery time (failure injected → service
/// verified) and data lost (records the witness device had acknowledged that are gone) against
/// the inventory's objectives. Its commands are argument arrays run on this machine; what it
/// prints and keeps passes through the redactor.
///
/// In order: ``isReady(runbook:options:console:)``, ``plan``, ``confirm(options:console:)``,
/// then ``perform(runbook:base:interactive:console:)``.
public struct Rehearsal: Sendable {
  public let scenario: String
  public let environment: Environment
  let spec: RehearsalSpec.Scenario
  let acknowledgements: RehearsalSpec.Acknowledgements?
  /// corrupt-db's built-in injection: `schema.table`.
  let dropTable: (schema: String, table: String)?
  let stateDirectory: String
  /// nas-failure: the nightly that runs while the NAS is away.
  let nightly: Runbook?
  let local = LocalTransport()

  /// Fails (a `RunError` or the acknowledgement log's `ConfigError`) when the inventory does not
  /// say how to break `environment` for `scenario`, or its witness log cannot be read.
  public init(
    scenario: String, environment: Environment, inventorySource: String, stateDirectory: String, nightly: Runbook?
  ) throws {
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
      dropTable = (schema, parts.last ?? name)
      guard environment.database != nil else {
        throw RunError(.invalidInput, "\(inventorySource): environment '\(environment.name)' has no database to break")
      }
    } else {
      dropTable = nil
      guard spec.inject != nil else {
        throw RunError(
          .invalidInput,
          "\(inventorySource): environment '\(environment.name)' does not say how to break it for \(scenario): rehearsal.scenarios.\(scenario).inject\n  hint: the command that \(Self.failureWords[scenario]?.does ?? "breaks it") (a hypervisor's power-off, a switch port down), as an argument array; see docs/rehearsals.md"
        )
      }
    }
    if let acknowledgements { _ = try AcknowledgementLog.read(acknowledgements.log) }
  }

  /// Breaks the environment, recovers it with `runbook`, verifies and measures, puts it back,
  /// and keeps the result in `STATE/rehearsals/ID/`. `.done` when recovered and verified.
  public func perform(runbook: Runbook, base: RunOptions, interactive: Bool, console: ConsoleOutput) async -> RunExit {
    var result = RehearsalResult(
      id: RehearsalStore.newID(scenario: scenario, environment: environment.name), scenario: scenario,
      environment: environment.name, operatorName: base.operatorName, toolVersion: base.toolVersion, failure: failure,
      injectedAt: Date())
    result.rtoMs = environment.objectives.map { $0.rto.milliseconds }
    result.rpoMs = environment.objectives.map { $0.rpo.milliseconds }

    // Before: what the witness had acknowledged and what of it the database holds.
    var baseline: Baseline?
    if let acknowledgements {
      do {
        baseline = Baseline(present: try await presentRecords(device: acknowledgements.device), at: Date())
      } catch {
        console.error(
          "error: before breaking anything, the database must answer (to know what it holds): \(error)\n  nothing was touched"
        )
        return .checkFailed
      }
    }

    // Break it.
    console.heading("\nInjecting the failure: \(failure)")
    let injected = Date()
    result.injectedAt = JournalTime.format(injected)
    var inputs = spec.inputs
    var answers = interactive ? [:] : spec.answers
    // When the failure is in effect: what was acknowledged up to then was promised before it.
    // The recorded time of the drop; for a host or the NAS, when the injection returned.
    let injection: Injection
    do {
      injection = try await inject(console: console) ?? Injection(at: injected)
    } catch {
      console.error("error: the failure could not be injected: \(error)")
      result.phases.append(
        .init(label: "Failure injected", kind: "injection", status: "failed", startMs: 0, durationMs: since(injected)))
      result.runState = "not started (injection failed)"
      result.checks.append("FAILED: the injection: \(error)")
      return finish(&result, console: console, exit: .stepFailed)
    }
    if let rows = injection.droppedRows {
      inputs["target_time"] = JournalTime.format(injection.at)
      if !interactive && answers["choose.choose-restore-point"] == nil {
        answers["choose.choose-restore-point"] = "pitr-target"
      }
      result.failure = "\(failure) (\(rows) rows)"
    }
    result.phases.append(
      .init(label: "Failure injected", kind: "injection", status: "completed", startMs: 0, durationMs: since(injected)))
    result.failureAt = JournalTime.format(injection.at)

    // nas-failure: the nightly runs while the NAS is away.
    if scenario == "nas-failure", let nightly {
      let started = Date()
      console.heading("\nThe nightly runs while the NAS is away")
      let run = await inner(nightly, inputs: [:], answers: [:], base: base, interactive: false)
      result.phases.append(
        .init(
          label: "Nightly during the outage (to the fallback)", kind: "outage",
          status: run.exit == .done ? "completed" : "failed",
          startMs: offset(started, from: injected), durationMs: since(started)))
      if run.exit != .done {
        result.checks.append("FAILED: the nightly during the outage ended \(run.exit) (run \(run.runID ?? "?"))")
      }
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
        result.phases.append(
          .init(
            label: "Repair: \(Self.shortCommand(repair))", kind: "repair", status: "completed",
            startMs: offset(started, from: injected), durationMs: since(started)))
      } catch {
        console.error("error: the repair failed: \(error)")
        result.phases.append(
          .init(
            label: "Repair: \(Self.shortCommand(repair))", kind: "repair", status: "failed",
            startMs: offset(started, from: injected), durationMs: since(started)))
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
    if let runID = recovery.runID,
      let history = try? RunHistory.read(directory: RunDirectory(stateDirectory: stateDirectory, runID: runID).path)
    {
      let report = RunReport.build(history: history, runbook: runbook)
      result.runState = report.state
      let runStart = history.startTime ?? injected
      for step in report.steps where step.status != "not run" {
        result.phases.append(
          .init(
            label: step.title, kind: "step", status: step.status,
            startMs: offset(runStart, from: injected) + step.startOffsetMs, durationMs: step.durationMs))
      }
      let end = history.lastTime ?? Date()
      result.recoveredAt = JournalTime.format(end)
      result.recoveryMs = offset(end, from: injected)
    } else {
      result.runState = "not started (exit \(recovery.exit.rawValue))"
      result.recoveryMs = since(injected)
    }
    if acknowledgements == nil {
      result.dataLossNote = "not measured (the inventory names no rehearsal.acknowledgements)"
    } else if result.runState != "completed" {
      result.dataLossNote = "not measured (not recovered)"
    }

    // Verify, and measure what was lost.
    if result.runState == "completed" {
      await verify(&result, droppedRows: injection.droppedRows, baseline: baseline, failureAt: injection.at)
    } else {
      result.checks.append(
        "FAILED: the recovery run \(recovery.runID ?? "") ended \(result.runState); `nexus-dr resume` continues it")
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

  /// Settles the outcome, prints the summary and keeps the result with its reports.
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

  /// A scenario or routine runbook, run here like `nexus-dr run` would.
  func inner(
    _ runbook: Runbook, inputs: [String: String], answers: [String: String], base: RunOptions, interactive: Bool
  ) async
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

  static func shortCommand(_ argv: [String]) -> String {
    ([URL(fileURLWithPath: argv[0]).lastPathComponent] + argv.dropFirst()).joined(separator: " ")
  }

  func since(_ date: Date) -> Int64 { offset(Date(), from: date) }
  func offset(_ date: Date, from origin: Date) -> Int64 { Int64((date.timeIntervalSince(origin) * 1000).rounded()) }
}
