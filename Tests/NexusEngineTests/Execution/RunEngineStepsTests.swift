import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

@Suite("Engine: the step loop, over in-memory hosts")
struct RunEngineStepsTests {
  static let twoHosts = """
    runbook: two-hosts
    steps:
      - { id: first, host: server, action: shell, with: { argv: [echo, one], capture: { word: '^(\\S+)' } } }
      - { id: second, host: gate, action: shell, with: { argv: [echo, "got {{ steps.first.output.word }}"] } }
    """

  @Test("steps run in order, each on its host; an output reaches a later step; the journal tells it all")
  func inOrder() async throws {
    let fixture = try EngineFixture()
    let (exit, history) = try await fixture.start(try fixture.runbook(Self.twoHosts))
    #expect(exit == .done)
    #expect(fixture.commands("server") == ["echo one"])
    #expect(fixture.commands("gate") == ["echo 'got one'"])
    #expect(
      history.events == [
        "run-started", "step-started first", "step-completed first", "step-started second", "step-completed second",
        "run-finished",
      ])
    #expect(history.completedOutputs["first"]?["word"] == "one")
    #expect(history.completedOutputs["second"]?["stdout"] == "got one")
    #expect(history.records.last?.state == .completed)
    #expect(history.state(lockHeldByThisRun: false) == .completed)
    #expect(history.started?.steps == ["first", "second"])
    #expect(
      FileManager.default.fileExists(atPath: "\(history.directory)/report.md"), "the report is written from the journal"
    )
  }

  @Test("a step's start is in the journal, on disk, before its command runs")
  func startedBeforeTheWork() async throws {
    let seen = Locked<[String]>([])
    let state = Locked<String?>(nil)
    let fixture = try EngineFixture { _, command throws(TransportError) in
      // What a crash at this instant would leave: the journal as it is on disk.
      if let directory = state.value, let run = RunDirectory.all(stateDirectory: directory).last {
        seen.withLock { $0.append(run.events.last ?? "") }
      }
      return EngineFixture.echo(command)
    }
    state.withLock { $0 = fixture.stateDirectory }
    let (exit, _) = try await fixture.start(try fixture.runbook(Self.twoHosts))
    #expect(exit == .done)
    #expect(seen.value == ["step-started first", "step-started second"])
  }

  @Test("a step whose `when` is false is skipped and journaled; its command never runs")
  func whenFalse() async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(
      """
      runbook: conditional
      steps:
        - { id: probe, host: server, action: shell, with: { argv: [echo, "no"] } }
        - { id: act, host: gate, action: shell, when: "{{ steps.probe.output.stdout }} == yes", with: { argv: [touch, /x] } }
        - { id: after, host: gate, action: shell, with: { argv: [echo, done] } }
      """)
    let (exit, history) = try await fixture.start(runbook)
    #expect(exit == .done)
    #expect(fixture.commands("gate") == ["echo done"])
    let skipped = try #require(history.records.first { $0.type == .stepSkipped })
    #expect(skipped.step == "act")
    #expect(skipped.reason?.contains("is false") == true)
    #expect(history.settledSteps == ["probe", "act", "after"])
  }

  @Test("a failed step stops the run: exit 1, later steps never run, the run is resumable from it")
  func failureStops() async throws {
    let fixture = try EngineFixture { _, command throws(TransportError) in
      command.commandLine == "false" ? .exited(3, stderr: "disk is full\n") : EngineFixture.echo(command)
    }
    let runbook = try fixture.runbook(
      """
      runbook: stops
      steps:
        - { id: one, host: server, action: shell, with: { argv: [echo, a] } }
        - { id: two, host: server, action: shell, with: { argv: ["false"] } }
        - { id: three, host: server, action: shell, with: { argv: [echo, c] } }
      """)
    let (exit, history) = try await fixture.start(runbook)
    #expect(exit == .stepFailed)
    #expect(fixture.commands("server") == ["echo a", "false"])
    let failure = try #require(history.records.first { $0.type == .stepFailed })
    #expect(failure.step == "two")
    #expect(failure.exitStatus == 3)
    #expect(failure.failure == .failed)
    #expect(failure.error?.contains("disk is full") == true, "the failure keeps the command's stderr")
    #expect(history.records.last?.state == .failed)
    #expect(history.settledSteps == ["one"])
    #expect(history.unfinishedStep == nil, "a failure is known, not uncertain")
  }

  @Test("a failure is retried up to `retries` times, each attempt journaled")
  func retries() async throws {
    let attempts = Locked(0)
    let fixture = try EngineFixture { _, _ throws(TransportError) in
      let attempt = attempts.withLock { count -> Int in
        count += 1
        return count
      }
      return attempt < 3 ? .exited(1, stderr: "busy\n") : .exited(0, stdout: "ok\n")
    }
    let runbook = try fixture.runbook(
      """
      runbook: flaky
      steps:
        - { id: flaky, host: gate, action: shell, retries: { count: 2, backoff: 0s }, with: { argv: [try-it] } }
      """)
    let (exit, history) = try await fixture.start(runbook)
    #expect(exit == .done)
    #expect(attempts.value == 3)
    #expect(history.records.filter { $0.type == .stepStarted }.map(\.attempt) == [1, 2, 3])
    #expect(history.records.filter { $0.type == .stepFailed }.map(\.willRetry) == [true, true])
    #expect(history.completedOutputs["flaky"]?["stdout"] == "ok")
  }

  @Test("retries run out: the last failure stops the run")
  func retriesExhausted() async throws {
    let fixture = try EngineFixture { _, _ throws(TransportError) in .exited(1) }
    let runbook = try fixture.runbook(
      """
      runbook: broken
      steps:
        - { id: broken, host: gate, action: shell, retries: { count: 1, backoff: 0s }, with: { argv: [try-it] } }
      """)
    let (exit, history) = try await fixture.start(runbook)
    #expect(exit == .stepFailed)
    #expect(fixture.commands("gate").count == 2)
    #expect(history.records.filter { $0.type == .stepFailed }.map(\.willRetry) == [true, nil])
  }

  @Test("on_failure continue: the failure is journaled with its reason, the step counts as settled, the run goes on")
  func continueOnFailure() async throws {
    let fixture = try EngineFixture { _, command throws(TransportError) in
      command.commandLine.hasPrefix("logger") ? .exited(1) : EngineFixture.echo(command)
    }
    let runbook = try fixture.runbook(
      """
      runbook: goes-on
      steps:
        - { id: note, host: gate, action: shell, on_failure: { continue: "only a note" }, with: { argv: [logger, hi] } }
        - { id: work, host: gate, action: shell, with: { argv: [echo, work] } }
      """)
    let (exit, history) = try await fixture.start(runbook)
    #expect(exit == .done)
    #expect(fixture.commands("gate") == ["logger hi", "echo work"])
    #expect(history.records.first { $0.type == .stepFailed }?.reason == "only a note")
    #expect(history.settledSteps == ["note", "work"])
  }

  @Test(
    "a timeout is uncertain: a step not safe to run twice is not retried and stays unfinished; an idempotent one is retried"
  )
  func timeoutIsUncertain() async throws {
    let fixture = try EngineFixture { host, command throws(TransportError) in
      throw TransportError(.timeout, host: host, detail: "no result after 1 s", command: command.displayLine)
    }
    let once = try fixture.runbook(
      """
      runbook: once
      steps:
        - { id: slow, host: gate, action: shell, retries: { count: 2, backoff: 0s }, with: { argv: [slow] } }
      """)
    let (exit, history) = try await fixture.start(once)
    #expect(exit == .stepFailed)
    #expect(fixture.commands("gate").count == 1)
    #expect(history.records.first { $0.type == .stepFailed }?.failure == .uncertain)
    #expect(history.unfinishedStep == "slow", "resume must ask before running it again")

    let twice = try fixture.runbook(
      """
      runbook: twice
      steps:
        - { id: slow, host: server, action: shell, idempotent: true, retries: { count: 2, backoff: 0s }, with: { argv: [slow] } }
      """, name: "twice.yaml")
    let (again, _) = try await fixture.start(twice)
    #expect(again == .stepFailed)
    #expect(fixture.commands("server").count == 3)
  }

  @Test(
    "a destructive step asks confirm.ID first: unanswered or no, its command never runs",
    arguments: [
      ([String: String](), RunExit.declined, RunState.interrupted, 0),
      (["confirm.wipe": "no"], RunExit.declined, RunState.declined, 0),
      (["confirm.wipe": "yes"], RunExit.done, RunState.completed, 1),
    ])
  func destructive(answers: [String: String], exit expected: RunExit, state: RunState, runs: Int) async throws {
    let fixture = try EngineFixture()
    let runbook = try fixture.runbook(
      """
      runbook: wipe
      steps:
        - { id: wipe, host: gate, action: shell, destructive: true, with: { argv: [rm, -rf, /srv/old] } }
      """)
    let (exit, history) = try await fixture.start(runbook, answers: answers)
    #expect(exit == expected)
    #expect(fixture.commands("gate").count == runs)
    #expect(history.records.last?.state == state)
    if let answer = answers["confirm.wipe"] {
      let journaled = try #require(history.records.first { $0.type == .answer })
      #expect(
        journaled.question == "confirm.wipe" && journaled.answer == answer && journaled.answerSource == "answers-file")
    }
  }

  @Test("a secret in a step's output is redacted in the journal, not in what later steps get")
  func redactedOutputs() async throws {
    let fixture = try EngineFixture { _, command throws(TransportError) in
      command.commandLine == "cat conf" ? .exited(0, stdout: "db_password = hunter2-secret\n") : .exited(0)
    }
    let runbook = try fixture.runbook(
      """
      runbook: secret
      steps:
        - { id: read, host: server, action: shell, with: { argv: [cat, conf] } }
      """)
    let (exit, history) = try await fixture.start(runbook)
    #expect(exit == .done)
    #expect(history.completedOutputs["read"]?["stdout"] == "db_password = [REDACTED]")
    let journal = try String(contentsOfFile: history.directory + "/journal.jsonl", encoding: .utf8)
    #expect(!journal.contains("hunter2-secret"))
  }

  @Test("every host's transport is closed when the run ends")
  func transportsClosed() async throws {
    let fixture = try EngineFixture()
    _ = try await fixture.start(try fixture.runbook(Self.twoHosts))
    #expect(fixture.hosts["server"]?.closeCount == 1)
    #expect(fixture.hosts["gate"]?.closeCount == 1)
  }

  @Test("a second run in the same environment is refused while the first holds the lock (exit 5); nothing runs")
  func locked() async throws {
    let fixture = try EngineFixture()
    let holder = RunLock.Holder(pid: 1, machine: "elsewhere", runID: "other-run", runbook: "x", started: "now")
    let lock = try RunLock.acquire(stateDirectory: fixture.stateDirectory, environment: "staging", holder: holder)
    let (exit, runID) = try await fixture.engine(try fixture.runbook(Self.twoHosts)).start()
    #expect(exit == .locked)
    #expect(runID == nil)
    #expect(fixture.commands("server").isEmpty)
    withExtendedLifetime(lock) {}
  }
}
