import Foundation
import NexusCore
import NexusTransport

/// Carries out a runbook in an environment: lock, journal, preflight, steps
/// in order with checkpoints, reports. `resume` continues from a journal.
public final class RunEngine: Sendable {
  public let runbook: Runbook
  public let environment: Environment
  public let options: RunOptions
  public let console: ConsoleOutput
  let prompter: Prompter
  let transports: HostTransports
  let checks: CheckRunner

  /// `transports`: the hosts' transports; by default the inventory's local and SSH ones.
  public init(runbook: Runbook, environment: Environment, options: RunOptions, transports: HostTransports? = nil) {
    self.runbook = runbook
    self.environment = environment
    self.options = options
    self.console = ConsoleOutput(color: options.color)
    self.prompter = Prompter(
      answers: options.answers, assumeYes: options.assumeYes, interactive: options.interactive, console: console)
    self.transports = transports ?? HostTransports(environment: environment)
    self.checks = CheckRunner(environment: environment, transports: self.transports)
  }

  /// Input values: given ones, then defaults; every declared input must have one and no other may be given.
  public func resolveInputs() throws -> [String: String] {
    var values: [String: String] = [:]
    for name in options.inputs.keys where !runbook.inputs.contains(where: { $0.name == name }) {
      throw RunError(
        .invalidInput,
        "runbook \(runbook.id) has no input '\(name)'; its inputs: \(runbook.inputs.map(\.name).joined(separator: ", "))"
      )
    }
    for input in runbook.inputs {
      guard let value = options.inputs[input.name] ?? input.defaultValue else {
        throw RunError(
          .invalidInput,
          "runbook \(runbook.id) needs --input \(input.name)=VALUE\(input.description.map { " (\($0))" } ?? "")")
      }
      values[input.name] = value
    }
    return values
  }

  /// Every host the runbook uses must exist in the environment.
  public func checkHosts() throws {
    let used = Set(runbook.steps.compactMap(\.host) + runbook.preflight.compactMap(\.host))
    for host in used.sorted() where environment.host(host) == nil {
      throw RunError(
        .invalidInput,
        "runbook \(runbook.id) uses host '\(host)', which environment '\(environment.name)' does not have (hosts: \(environment.hosts.map(\.name).joined(separator: ", ")))"
      )
    }
  }

  func holder(runID: String) -> RunLock.Holder {
    RunLock.Holder(
      pid: POSIX.processID, machine: ProcessInfo.processInfo.hostName, runID: runID, runbook: runbook.id,
      started: JournalTime.format(Date()))
  }

  // MARK: Starting

  /// Starts a new run. Returns the exit status and the run's id, once it has one.
  public func start() async -> (RunExit, String?) {
    let inputs: [String: String]
    do {
      inputs = try resolveInputs()
      try checkHosts()
    } catch {
      console.error("error: \(error)")
      return (.invalidInput, nil)
    }
    let runID = RunDirectory.newID(runbook: runbook.id)
    let directory = RunDirectory(stateDirectory: options.stateDirectory, runID: runID)
    let lock: RunLock
    let journal: JournalWriter
    do {
      lock = try RunLock.acquire(
        stateDirectory: options.stateDirectory, environment: environment.name, holder: holder(runID: runID))
      warnAboutUnfinishedRuns()
      try StateDirectory.ensure(options.stateDirectory + "/runs")
      try StateDirectory.ensure(directory.path)
      try StateDirectory.write(Data(runbook.content.utf8), to: directory.runbookCopy)
      journal = try JournalWriter(path: directory.journal)
      var record = JournalRecord(.runStarted)
      record.runID = runID
      record.runbook = runbook.id
      record.runbookTitle = runbook.title
      record.runbookFile = URL(fileURLWithPath: runbook.file).standardizedFileURL.path
      record.contentHash = runbook.contentHash
      record.environment = environment.name
      record.operatorName = options.operatorName
      record.machine = ProcessInfo.processInfo.hostName
      record.toolVersion = options.toolVersion
      record.pid = POSIX.processID
      record.inputs = inputs.mapValues(Redactor.redact)
      record.steps = runbook.steps.map(\.id)
      record.hostOverrides = options.hostOverrides.isEmpty ? nil : options.hostOverrides
      try journal.append(record)
    } catch let error as RunError {
      console.error("error: \(error)")
      return (error.code == .locked ? .locked : .invalidInput, nil)
    } catch {
      console.error("error: \(error)")
      return (.invalidInput, nil)
    }
    console.heading("Run \(runID): \(runbook.title) — environment \(environment.name)")
    console.note("journal: \(directory.journal)")
    defer { withExtendedLifetime(lock) {} }

    let values = ReferenceValues(inputs: inputs, outputs: [:], environment: environment.templateValues)
    if !runbook.preflight.isEmpty {
      let passed = await preflight(values: values, journal: journal)
      if Task.isCancelled {
        await transports.closeAll()
        return (interrupted(step: nil, journal: journal, directory: directory), runID)
      }
      if !passed {
        console.line("Preflight failed: nothing was changed.")
        await transports.closeAll()
        return (finish(.preflightFailed, journal: journal, directory: directory, exit: .checkFailed), runID)
      }
    }
    let exit = await executeSteps(from: Set(), values: values, journal: journal, directory: directory)
    await transports.closeAll()
    return (exit, runID)
  }

  /// Runs the preflight checks, printing and journaling each; true when all pass.
  public func preflight(values: ReferenceValues, journal: JournalWriter?) async -> Bool {
    console.heading("Preflight: \(runbook.preflight.count) check\(runbook.preflight.count == 1 ? "" : "s")")
    var allPassed = true
    for check in runbook.preflight {
      let result = await checks.run(check, values: values)
      console.check(result)
      if var record = Optional(JournalRecord(.preflight)) {
        record.check = result
        try? journal?.append(record)
      }
      allPassed = allPassed && result.passed
    }
    return allPassed
  }

  /// Preflight alone (`nexus-dr preflight`): no run, no journal, nothing changed.
  public func preflightOnly() async -> RunExit {
    do {
      try checkHosts()
      let values = ReferenceValues(inputs: try resolveInputs(), environment: environment.templateValues)
      let passed = await preflight(values: values, journal: nil)
      await transports.closeAll()
      console.line(passed ? "Preflight passed." : "Preflight failed.")
      return passed ? .done : .checkFailed
    } catch {
      console.error("error: \(error)")
      return .invalidInput
    }
  }

  /// `plan --probe`: what each step's action can tell by looking at the hosts, read-only.
  public func probeSteps() async -> [(step: String, lines: [String])] {
    var found: [(step: String, lines: [String])] = []
    let values = ReferenceValues(inputs: (try? resolveInputs()) ?? [:], environment: environment.templateValues)
    for step in runbook.steps {
      let context = StepContext(
        step: step, environment: environment, transports: transports, values: values, prompter: prompter,
        console: console, checks: checks)
      do {
        let lines = try await step.action.definition.probe(context)
        if !lines.isEmpty { found.append((step.id, lines)) }
      } catch {
        found.append((step.id, ["cannot probe: \(error.message)"]))
      }
    }
    await transports.closeAll()
    return found
  }

  func warnAboutUnfinishedRuns() {
    for run in RunDirectory.all(stateDirectory: options.stateDirectory) where run.environment == environment.name {
      let state = run.state(lockHeldByThisRun: false)
      if state == .failed || state == .interrupted {
        console.error(
          "warning: run \(run.runID) (\(run.runbookID)) in \(environment.name) is unfinished (\(state.rawValue)); continue it with: nexus-dr resume \(run.runID)"
        )
      }
    }
  }

  // MARK: Finishing

  func finish(_ state: RunState, journal: JournalWriter, directory: RunDirectory, exit: RunExit) -> RunExit {
    var record = JournalRecord(.runFinished)
    record.state = state
    try? journal.append(record)
    do {
      let history = try RunHistory.read(directory: directory.path)
      let paths = try ReportWriter.writeAll(history: history, runbook: runbook, directory: directory)
      console.note("report: \(paths.joined(separator: ", "))")
    } catch {
      console.error("warning: could not write the report: \(error)")
    }
    switch state {
    case .failed, .interrupted:
      console.line("The run stopped; continue it with: nexus-dr resume \(directory.runID)")
    default: break
    }
    return exit
  }
}
