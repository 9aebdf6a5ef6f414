import Foundation
import NexusCore
import NexusTransport

extension RunEngine {
  /// Runs every step not yet settled, in order. Each step: `step-started` is
  /// journaled (and fsync'd) before its work, `step-completed` with its outputs
  /// after, so a crash at any point leaves a journal that tells the truth.
  func executeSteps(
    from settled: Set<String>, values initial: ReferenceValues, journal: JournalWriter, directory: RunDirectory,
    rerunFirst: String? = nil
  ) async -> RunExit {
    var values = initial
    let total = runbook.steps.count
    for (offset, step) in runbook.steps.enumerated() where !settled.contains(step.id) {
      let index = offset + 1
      FaultInjection.crashIfRequested(step: step.id, phase: "before-start")
      if Task.isCancelled { return interrupted(step: nil, journal: journal, directory: directory) }

      if let condition = step.when {
        do {
          if try !condition.evaluate(values) {
            var record = JournalRecord(.stepSkipped)
            record.step = step.id
            record.reason = "when: \(condition) is false"
            try journal.append(record)
            console.stepSkipped(index: index, total: total, step: step, reason: "when: \(condition) is false")
            continue
          }
        } catch let error as TemplateError {
          return failed(
            step: step, failure: StepFailure(.failed, "when: \(error.message)"), attempt: 1, journal: journal,
            directory: directory)
        } catch {
          return journalFailure(error, directory: directory)
        }
      }

      let context = StepContext(
        step: step, environment: environment, transports: transports, values: values,
        prompter: JournalingPrompter.wrap(prompter, journal: journal), console: console, checks: checks,
        runID: directory.runID)

      if step.destructive, !(step.action.definition is ConfirmAction) {
        do {
          _ = try await Confirmation.ask(
            id: "confirm.\(step.id)",
            text: "Step '\(step.title)' is destructive\(step.host.map { " (on \($0))" } ?? ""):\n"
              + step.action.definition.plan(PlanContext(step: step, values: values)).map { "  \($0)" }.joined(
                separator: "\n") + "\nGo on?",
            context: context)
        } catch {
          return failed(step: step, failure: error, attempt: 1, journal: journal, directory: directory)
        }
      }

      var attempt = 1
      while true {
        let clock = ContinuousClock()
        let start = clock.now
        var started = JournalRecord(.stepStarted)
        started.step = step.id
        started.title = step.title
        started.host = step.host
        started.attempt = attempt
        started.command = step.action.definition.plan(PlanContext(step: step, values: values)).first
        do { try journal.append(started) } catch { return journalFailure(error, directory: directory) }
        console.stepStarted(index: index, total: total, step: step, attempt: attempt)
        FaultInjection.crashIfRequested(step: step.id, phase: "after-start")
        do {
          let result = try await step.action.definition.run(context)
          FaultInjection.crashIfRequested(step: step.id, phase: "after-command")
          var completed = JournalRecord(.stepCompleted)
          completed.step = step.id
          completed.outputs = Redactor.redact(outputs: result.outputs)
          completed.durationMs = (clock.now - start).milliseconds
          completed.exitStatus = result.exitStatus
          completed.command = result.command.map(Redactor.redact)
          completed.bytes = result.bytes
          try journal.append(completed)
          values.outputs[step.id] = result.outputs
          console.stepFinished(
            index: index, total: total, step: step, elapsed: clock.now - start, outcome: "done", ok: true)
          FaultInjection.crashIfRequested(step: step.id, phase: "after-complete")
          break
        } catch let failure as StepFailure {
          console.stepFinished(
            index: index, total: total, step: step, elapsed: clock.now - start, outcome: failure.kind.rawValue,
            ok: false)
          let retryable = failure.kind == .failed || (failure.kind == .uncertain && step.idempotent)
          if retryable, attempt <= step.retries.count, !Task.isCancelled {
            var record = Self.failureRecord(step: step, failure: failure, attempt: attempt)
            record.willRetry = true
            try? journal.append(record)
            console.line("  \(failure.message)")
            console.note("  retrying in \(DurationText.format(step.retries.backoff))")
            do { try await Task.sleep(for: step.retries.backoff) } catch {
              return interrupted(step: step.id, journal: journal, directory: directory)
            }
            attempt += 1
            continue
          }
          if failure.kind == .failed || failure.kind == .uncertain, case .continue(let reason) = step.onFailure {
            var record = Self.failureRecord(step: step, failure: failure, attempt: attempt)
            record.exitStatus = nil
            record.reason = reason
            try? journal.append(record)
            console.line("  \(failure.message)")
            console.note("  going on: \(reason)")
            break
          }
          return failed(step: step, failure: failure, attempt: attempt, journal: journal, directory: directory)
        } catch {
          return journalFailure(error, directory: directory)
        }
      }
    }
    console.heading("Run \(directory.runID) completed.")
    return finish(.completed, journal: journal, directory: directory, exit: .done)
  }

  /// The `step-failed` record of an attempt.
  static func failureRecord(step: Step, failure: StepFailure, attempt: Int) -> JournalRecord {
    var record = JournalRecord(.stepFailed)
    record.step = step.id
    record.attempt = attempt
    record.error = failure.message
    record.failure = failure.kind
    record.exitStatus = failure.exitStatus
    return record
  }

  func failed(step: Step, failure: StepFailure, attempt: Int, journal: JournalWriter, directory: RunDirectory)
    -> RunExit
  {
    if failure.kind == .interrupted { return interrupted(step: step.id, journal: journal, directory: directory) }
    try? journal.append(Self.failureRecord(step: step, failure: failure, attempt: attempt))
    console.error("error: \(failure.message)")
    switch failure.kind {
    case .declined:
      return finish(.declined, journal: journal, directory: directory, exit: .declined)
    case .unanswered:
      return finish(.interrupted, journal: journal, directory: directory, exit: .declined)
    default:
      return finish(.failed, journal: journal, directory: directory, exit: .stepFailed)
    }
  }

  func interrupted(step: String?, journal: JournalWriter, directory: RunDirectory) -> RunExit {
    var record = JournalRecord(.interrupted)
    record.step = step
    try? journal.append(record)
    console.line("Interrupted\(step.map { " during \($0)" } ?? ""); the running command was stopped.")
    return finish(.interrupted, journal: journal, directory: directory, exit: .interrupted)
  }

  func journalFailure(_ error: any Error, directory: RunDirectory) -> RunExit {
    console.error("error: the journal could not be written, so the run stops here: \(error)")
    return .stepFailed
  }
}

/// Journals every answer the operator gives, with where it came from.
enum JournalingPrompter {
  static func wrap(_ prompter: Prompter, journal: JournalWriter) -> Prompter {
    JournaledPrompter(base: prompter, journal: journal)
  }
}

final class JournaledPrompter: Prompter, @unchecked Sendable {
  let journal: JournalWriter

  init(base: Prompter, journal: JournalWriter) {
    self.journal = journal
    super.init(answers: base.answers, assumeYes: base.assumeYes, interactive: base.interactive, console: base.console)
  }

  override func ask(_ question: Question) async throws(StepFailure) -> Answer {
    let answer = try await super.ask(question)
    var record = JournalRecord(.answer)
    record.question = question.id
    record.answer = Redactor.redact(answer.value)
    record.answerSource = answer.source
    try? journal.append(record)
    return answer
  }
}

/// A test-only fault injection: `NEXUS_DR_CRASH_AT=STEP-ID:PHASE` makes the
/// process SIGKILL itself at that point (phases: before-start, after-start,
/// after-command, after-complete), exactly as `kill -9` would. A comma-separated list
/// kills at the first of them the run reaches (the fault matrix's chains); with
/// `NEXUS_DR_CRASH_NOTE=FILE` the point is written there first, so the test knows which.
enum FaultInjection {
  static let target = ProcessInfo.processInfo.environment["NEXUS_DR_CRASH_AT"]
  static let targets = Set((target ?? "").split(separator: ",").map { String($0) })

  static func crashIfRequested(step: String, phase: String) {
    let point = "\(step):\(phase)"
    guard targets.contains(point) else { return }
    if let note = ProcessInfo.processInfo.environment["NEXUS_DR_CRASH_NOTE"] {
      FileManager.default.createFile(atPath: note, contents: Data((point + "\n").utf8))
    }
    try? POSIX.kill(POSIX.processID, SIGKILL)
  }
}
