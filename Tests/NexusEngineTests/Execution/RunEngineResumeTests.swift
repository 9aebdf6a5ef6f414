import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

@Suite("Engine: resume decisions, over in-memory hosts")
struct RunEngineResumeTests {
  /// Three steps that are not safe to run twice; `two` uses `one`'s output.
  static let threeSteps = """
    runbook: three
    steps:
      - { id: one, host: server, action: shell, with: { argv: [echo, first], capture: { word: '^(\\S+)' } } }
      - { id: two, host: server, action: shell, with: { argv: [echo, "after {{ steps.one.output.word }}"] } }
      - { id: three, host: gate, action: shell, with: { argv: [echo, last] } }
    """

  /// The journal a crash in the middle of `two` leaves: `one` completed, `two` started.
  func crashedInTwo(_ fixture: EngineFixture, _ runbook: Runbook) throws -> String {
    try fixture.crashedRun(
      runbook,
      [
        .step(.stepStarted, "one"),
        .step(.stepCompleted, "one", outputs: ["word": "first", "stdout": "first", "exit_status": "0"]),
        .step(.stepStarted, "two"),
      ])
  }

  @Test("after a failed step: what completed is not run again, its recorded output is reused, the rest runs")
  func afterFailure() async throws {
    let broken = Locked(true)
    let fixture = try EngineFixture { _, command throws(TransportError) in
      command.commandLine.hasPrefix("echo 'after") && broken.value ? .exited(1) : EngineFixture.echo(command)
    }
    let runbook = try fixture.runbook(Self.threeSteps)
    let (failed, started) = try await fixture.start(runbook)
    #expect(failed == .stepFailed)
    broken.withLock { $0 = false }
    let (exit, history) = try await fixture.resume(runbook, runID: started.runID)
    #expect(exit == .done)
    #expect(fixture.commands("server") == ["echo first", "echo 'after first'", "echo 'after first'"])
    #expect(fixture.commands("gate") == ["echo last"])
    #expect(
      history.events.filter { $0.hasPrefix("step-completed") } == [
        "step-completed one", "step-completed two", "step-completed three",
      ])
    #expect(history.records.contains { $0.type == .runResumed })
    #expect(history.state(lockHeldByThisRun: false) == .completed)
  }

  @Test("a step interrupted mid-command that is safe to run twice runs again, without a question")
  func idempotentReruns() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(
      Self.threeSteps.replacingOccurrences(of: "id: two,", with: "id: two, idempotent: true,"))
    let runID = try crashedInTwo(fixture, runbook)
    let (exit, history) = try await fixture.resume(runbook, runID: runID)
    #expect(exit == .done)
    #expect(fixture.commands("server") == ["echo 'after first'"], "one is not run again; two uses its recorded output")
    #expect(fixture.commands("gate") == ["echo last"])
    #expect(!history.records.contains { $0.type == .answer })
  }

  @Test(
    "an interrupted step not safe to run twice asks resume.ID; unanswered, nothing runs and the run stays resumable")
  func unansweredAsks() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(Self.threeSteps)
    let runID = try crashedInTwo(fixture, runbook)
    let (exit, history) = try await fixture.resume(runbook, runID: runID)
    #expect(exit == .declined)
    #expect(fixture.commands("server").isEmpty && fixture.commands("gate").isEmpty)
    let interrupted = try #require(history.records.last { $0.type == .interrupted })
    #expect(interrupted.step == "two")
    #expect(interrupted.reason?.contains("resume.two") == true, "\(interrupted.reason ?? "")")
    #expect(history.state(lockHeldByThisRun: false) == .interrupted)
    #expect(history.unfinishedStep == "two")
  }

  @Test("answered done: the step is recorded as completed by the operator, not run; the rest runs")
  func answeredDone() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(Self.threeSteps)
    let runID = try crashedInTwo(fixture, runbook)
    let (exit, history) = try await fixture.resume(runbook, runID: runID, answers: ["resume.two": "done"])
    #expect(exit == .done)
    #expect(fixture.commands("server").isEmpty)
    #expect(fixture.commands("gate") == ["echo last"])
    let done = try #require(history.records.first { $0.type == .stepCompleted && $0.step == "two" })
    #expect(done.reason?.contains("operator confirmed") == true)
    #expect(history.answers["resume.two"] == "done")
  }

  @Test("answered rerun: the step runs again, then the rest")
  func answeredRerun() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(Self.threeSteps)
    let runID = try crashedInTwo(fixture, runbook)
    let (exit, _) = try await fixture.resume(runbook, runID: runID, answers: ["resume.two": "rerun"])
    #expect(exit == .done)
    #expect(fixture.commands("server") == ["echo 'after first'"])
    #expect(fixture.commands("gate") == ["echo last"])
  }

  @Test("answered abort: it stops there, declined, nothing runs; the run can still be resumed")
  func answeredAbort() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(Self.threeSteps)
    let runID = try crashedInTwo(fixture, runbook)
    let (exit, history) = try await fixture.resume(runbook, runID: runID, answers: ["resume.two": "abort"])
    #expect(exit == .declined)
    #expect(fixture.commands("server").isEmpty && fixture.commands("gate").isEmpty)
    #expect(history.records.last?.state == .declined)
    let (again, _) = try await fixture.resume(runbook, runID: runID, answers: ["resume.two": "rerun"])
    #expect(again == .done)
  }

  @Test("a runbook changed since the run started is refused; nothing runs, nothing is journaled")
  func changedRunbook() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(Self.threeSteps)
    let runID = try crashedInTwo(fixture, runbook)
    let changed = try fixture.runbook(Self.threeSteps.replacingOccurrences(of: "echo, last", with: "echo, LAST"))
    let before = try fixture.history(runID).records.count
    let (exit, history) = try await fixture.resume(changed, runID: runID)
    #expect(exit == .invalidInput)
    #expect(history.records.count == before)
    #expect(fixture.commands("server").isEmpty && fixture.commands("gate").isEmpty)
  }

  @Test("a run is resumed only in its own environment, and only when it did not complete")
  func refusals() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(Self.threeSteps)
    let runID = try crashedInTwo(fixture, runbook)
    let (elsewhere, _) = try await fixture.resume(runbook, runID: runID, environment: "other")
    #expect(elsewhere == .invalidInput)
    #expect(fixture.commands("server").isEmpty)

    let (done, completed) = try await fixture.start(runbook)
    #expect(done == .done)
    let ran = fixture.commands("server").count
    let (again, _) = try await fixture.resume(runbook, runID: completed.runID)
    #expect(again == .invalidInput)
    #expect(fixture.commands("server").count == ran)
  }

  @Test("a run whose environment is locked by another is refused with exit 5; nothing is journaled")
  func lockedResume() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(Self.threeSteps)
    let runID = try crashedInTwo(fixture, runbook)
    let holder = RunLock.Holder(pid: 1, machine: "elsewhere", runID: "other-run", runbook: "x", started: "now")
    let lock = try RunLock.acquire(stateDirectory: fixture.stateDirectory, environment: "staging", holder: holder)
    let before = try fixture.history(runID).records.count
    let (exit, history) = try await fixture.resume(runbook, runID: runID, answers: ["resume.two": "rerun"])
    #expect(exit == .locked)
    #expect(history.records.count == before)
    #expect(fixture.commands("server").isEmpty)
    #expect(RunLock.holder(stateDirectory: fixture.stateDirectory, environment: "staging")?.runID == "other-run")
    withExtendedLifetime(lock) {}
  }
}
