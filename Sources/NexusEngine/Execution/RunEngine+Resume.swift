import Foundation
import NexusCore
import NexusTransport

extension RunEngine {
  /// Continues a run from its journal: the same runbook content and environment;
  /// completed steps are skipped with their recorded outputs; an interrupted
  /// step is re-run if it is safe to run twice, otherwise the operator says what
  /// happened (question `resume.STEP-ID`: done, rerun or abort).
  public func resume(_ given: RunHistory) async -> RunExit {
    var history = given
    let directory = RunDirectory(stateDirectory: options.stateDirectory, runID: history.runID)
    guard let started = history.started else {
      console.error("error: run \(history.runID) has no run-started record; it cannot be resumed")
      return .invalidInput
    }
    guard history.state(lockHeldByThisRun: false) != .completed else {
      console.error("error: run \(history.runID) already completed; nothing to resume")
      return .invalidInput
    }
    guard started.contentHash == runbook.contentHash else {
      console.error(
        "error: runbook \(runbook.file) changed since run \(history.runID) started; resuming it could skip or repeat work. What changed:"
      )
      console.line(await difference(from: directory.runbookCopy, to: runbook.file))
      console.line(
        "Restore the runbook as it was (the original is kept at \(directory.runbookCopy)), or start a new run.")
      return .invalidInput
    }
    guard started.environment == environment.name else {
      console.error(
        "error: run \(history.runID) is in environment '\(started.environment ?? "?")', not '\(environment.name)'")
      return .invalidInput
    }
    let lock: RunLock
    let journal: JournalWriter
    do {
      lock = try RunLock.acquire(
        stateDirectory: options.stateDirectory, environment: environment.name, holder: holder(runID: history.runID))
      journal = try JournalWriter(path: directory.journal)
      var record = JournalRecord(.runResumed)
      record.runID = history.runID
      record.operatorName = options.operatorName
      record.machine = ProcessInfo.processInfo.hostName
      record.pid = POSIX.processID
      record.toolVersion = options.toolVersion
      record.hostOverrides = options.hostOverrides.isEmpty ? nil : options.hostOverrides
      try journal.append(record)
    } catch let error as RunError {
      console.error("error: \(error)")
      return error.code == .locked ? .locked : .invalidInput
    } catch {
      console.error("error: \(error)")
      return .invalidInput
    }
    defer { withExtendedLifetime(lock) {} }
    // Read again under the lock: another resume may have moved the run on meanwhile.
    do { history = try RunHistory.read(directory: directory.path) } catch {
      console.error("error: \(error)")
      return .invalidInput
    }

    var settled = history.settledSteps
    let done = runbook.steps.filter { settled.contains($0.id) }.count
    console.heading("Resuming run \(history.runID): \(runbook.title) — environment \(environment.name)")
    console.note("\(done) of \(runbook.steps.count) steps already done; their recorded outputs are reused.")
    let values = ReferenceValues(
      inputs: started.inputs ?? [:], outputs: history.completedOutputs, environment: environment.templateValues)

    if let unfinished = history.unfinishedStep, let step = runbook.step(unfinished), !settled.contains(unfinished) {
      if step.idempotent {
        console.note("Step '\(step.id)' was interrupted; it is safe to run twice, so it runs again.")
      } else {
        let context = StepContext(
          step: step, environment: environment, transports: transports, values: values,
          prompter: JournalingPrompter.wrap(prompter, journal: journal), console: console, checks: checks)
        let plan = step.action.definition.plan(PlanContext(step: step, values: values)).map { "  \($0)" }.joined(
          separator: "\n")
        let question = Question(
          id: "resume.\(step.id)",
          text:
            "Step '\(step.title)'\(step.host.map { " on \($0)" } ?? "") was interrupted while it ran, and it is not safe to run twice:\n\(plan)\nCheck on the host whether it took effect. done = it completed, record it and go on; rerun = run it again; abort = stop here.",
          kind: .words(["done", "rerun", "abort"]))
        let answer: Answer
        do { answer = try await context.ask(question) } catch {
          console.error("error: \(error.message)")
          var record = JournalRecord(.interrupted)
          record.step = step.id
          record.reason = error.message
          try? journal.append(record)
          await transports.closeAll()
          return finish(
            .interrupted, journal: journal, directory: directory,
            exit: error.kind == .interrupted ? .interrupted : .declined)
        }
        switch answer.value {
        case "done":
          var record = JournalRecord(.stepCompleted)
          record.step = step.id
          record.outputs = [:]
          record.reason = "the operator confirmed it completed before the interruption"
          try? journal.append(record)
          settled.insert(step.id)
        case "rerun":
          console.note("Running '\(step.id)' again, as the operator asked.")
        default:
          console.line("Stopped at the operator's request; the run stays resumable.")
          await transports.closeAll()
          return finish(.declined, journal: journal, directory: directory, exit: .declined)
        }
      }
    }
    let exit = await executeSteps(from: settled, values: values, journal: journal, directory: directory)
    await transports.closeAll()
    return exit
  }

  func difference(from original: String, to current: String) async -> String {
    let result = try? await LocalTransport().run(.argv(["diff", "-u", original, current]))
    return result.map { String($0.stdoutText.prefix(4000)) } ?? "(cannot compare \(original) with \(current))"
  }
}
