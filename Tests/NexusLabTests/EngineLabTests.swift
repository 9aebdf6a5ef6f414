import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// The runbook engine, through the built binary, against the lab's hosts.
  @Suite("Runbook engine (lab)", .serialized)
  struct EngineLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let fixtures: String

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-state")
      fixtures = Lab.repository + "/fixtures/runbooks"
    }

    var common: [String] { ["--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path] }

    func runs() -> [RunHistory] { RunDirectory.all(stateDirectory: state.path) }

    @Test("a 10-step runbook across server and gate completes; journal and report list every step")
    func tenSteps() async throws {
      let result = try await CLIProcess.run(["run", "\(fixtures)/ten-steps.yaml"] + common)
      #expect(result.status == 0, "\(result.output)")
      let run = try #require(runs().last)
      #expect(run.state(lockHeldByThisRun: false) == .completed)
      let completed = run.records.filter { $0.type == .stepCompleted }.compactMap(\.step)
      #expect(
        completed == [
          "server-name", "gate-name", "server-kernel", "gate-kernel", "server-disk", "gate-wireguard", "echo-back",
          "json-out", "only-if-gate",
        ])
      #expect(run.records.contains { $0.type == .stepSkipped && $0.step == "never" })
      #expect(run.completedOutputs["echo-back"]?["echoed"] == "nexus-server")
      #expect(run.completedOutputs["json-out"]?["where"] == "nexus-server")
      let directory = RunDirectory(stateDirectory: state.path, runID: run.runID)
      let markdown = try String(contentsOfFile: directory.report("md"), encoding: .utf8)
      let html = try String(contentsOfFile: directory.report("html"), encoding: .utf8)
      for step in [
        "server-name", "gate-name", "server-kernel", "gate-kernel", "server-disk", "gate-wireguard", "echo-back",
        "json-out", "only-if-gate", "never",
      ] {
        #expect(markdown.contains("`\(step)`"), "report.md lacks \(step)")
        #expect(html.contains("<code>\(step)</code>"), "report.html lacks \(step)")
      }
      #expect(!html.contains("http://") && !html.contains("https://"), "the HTML must be self-contained")
      let json = try JSONDecoder().decode(
        RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: directory.report("json"))))
      #expect(json.steps.count == 10)
      #expect(json.state == "completed")
      // Journal and reports are private.
      for file in [directory.journal, directory.report("html"), directory.report("md")] {
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
      }
      let dirMode = try FileManager.default.attributesOfItem(atPath: directory.path)[.posixPermissions] as? Int
      #expect(dirMode == 0o700)
    }

    /// The server file after a case, one line per step that really ran.
    func serverLines(_ file: String) async throws -> [String] {
      let result = try await lab.withSSH("server") { server in
        try await server.run(.argv(["cat", file]))
      }
      return result.succeeded ? result.stdoutText.split(separator: "\n").map(String.init) : []
    }

    /// Resumes until the run completes, answering `resume.STEP` truthfully from the
    /// server's file — but first proving that without an answer it stops and asks (exit 4).
    func resumeToCompletion(_ file: String, _ label: String) async throws {
      let steps = ["one", "two", "three", "four", "five", "six"]
      let before = try await serverLines(file)
      let bare = try await CLIProcess.run(["resume"] + common)
      if bare.status == 4 {
        // It asked; nothing ran twice meanwhile.
        #expect(try await serverLines(file) == before, "\(label): resume without an answer changed the file")
        let question = try #require(
          bare.output.firstMatch(of: #/question (resume\.[a-z]+)/#), "\(label): \(bare.output)")
        let step = String(question.output.1.dropFirst("resume.".count))
        let applied = before.contains(step)
        let answers = try state.write(
          "answers-\(UUID().uuidString).yaml", "resume.\(step): \(applied ? "done" : "rerun")\n")
        let answered = try await CLIProcess.run(["resume", "--answers", answers] + common)
        #expect(answered.status == 0, "\(label): \(answered.output)")
      } else {
        #expect(bare.status == 0, "\(label): \(bare.output)")
      }
      #expect(try await serverLines(file) == steps, "\(label): each step must be applied exactly once")
      let run = try #require(runs().last)
      #expect(run.state(lockHeldByThisRun: false) == .completed, "\(label)")
      #expect(Set(run.completedOutputs.keys) == Set(steps), "\(label): the journal must show every step completed")
    }

    @Test(
      "kill -9 at every step boundary, then resume: every step applied exactly once",
      arguments: ["one", "two", "three", "four", "five", "six"])
    func crashAtBoundaries(step: String) async throws {
      for phase in ["before-start", "after-start", "after-command", "after-complete"] {
        let file = "/tmp/nexus-dr-crash-\(UUID().uuidString.prefix(8))"
        let crashed = try await CLIProcess.run(
          ["run", "\(fixtures)/six-appends.yaml", "--input", "file=\(file)"] + common,
          environment: ["NEXUS_DR_CRASH_AT": "\(step):\(phase)"])
        #expect(crashed.status == 128 + SIGKILL, "\(step):\(phase) did not crash: \(crashed.output)")
        try await resumeToCompletion(file, "\(step):\(phase)")
      }
    }

    @Test(
      "kill -9 in the middle of every step, then resume: applied once, or it stops and asks",
      arguments: ["one", "two", "three", "four", "five", "six"])
    func crashMidStep(step: String) async throws {
      let file = "/tmp/nexus-dr-crash-\(UUID().uuidString.prefix(8))"
      try await lab.withSSH("server") { server in
        let process = try CLIProcess(["run", "\(fixtures)/six-appends.yaml", "--input", "file=\(file)"] + common)
        // Wait until the step's command is running on the server, then kill nexus-dr.
        let running = try await eventually {
          try await server.run(.argv(["grep", "-qx", "begin-\(step)", "\(file).trace"])).succeeded
        }
        #expect(running, "step \(step) never started: \(process.output)")
        process.signal(SIGKILL)
        #expect(await process.wait() == 128 + SIGKILL)
        // The remote command outlives the dead client; let it finish before judging.
        let settled = try await eventually {
          try await server.run(.argv(["pgrep", "-f", "echo \(step) >> \(file)"])).exitCode == 1
        }
        #expect(settled)
      }
      try await resumeToCompletion(file, "mid-\(step)")
    }

    @Test("state files (the run's runbook copy, its reports) are fsync'd with their directory, as the journal is")
    func stateFilesDurable() async throws {
      let trace = state.file("state.trace")
      let result = try await LocalTransport().run(
        .argv(
          [
            "strace", "-f", "-y", "-qq", "-e", "trace=fsync,rename", "-o", trace, BuiltTool.path, "run",
            "\(fixtures)/ten-steps.yaml",
          ] + common,
          timeout: .seconds(300)))
      #expect(result.exitCode == 0, "\(result.stdoutText)\(result.stderrText)")
      let run = try #require(runs().last)
      let directory = RunDirectory(stateDirectory: state.path, runID: run.runID)
      let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
      for file in [directory.runbookCopy, directory.report("md"), directory.report("json")] {
        let name = (file as NSString).lastPathComponent
        let folder = (file as NSString).deletingLastPathComponent
        // fsync of the temporary, the rename onto the name, then fsync of the directory.
        let synced = lines.firstIndex { $0.contains("fsync(") && $0.contains("/.\(name).tmp.") && $0.hasSuffix("= 0") }
        let renamed = lines.firstIndex { $0.contains("rename(") && $0.contains("\"\(file)\"") }
        let directorySynced = lines.lastIndex { $0.contains("fsync(") && $0.contains("<\(folder)>) = 0") }
        #expect(
          synced != nil && renamed != nil && directorySynced != nil, "\(name): \(lines.filter { $0.contains(name) })")
        if let synced, let renamed, let directorySynced {
          #expect(synced < renamed && renamed < directorySynced, "\(name)")
        }
      }
    }

    @Test("a second run in the same environment exits 5 naming the holder")
    func lockContention() async throws {
      let holder = RunLock.Holder(
        pid: POSIX.processID, machine: "test-machine", runID: "20261127T000000-held-by-test", runbook: "held",
        started: "now")
      let lock = try RunLock.acquire(stateDirectory: state.path, environment: "lab", holder: holder)
      let second = try await CLIProcess.run(["run", "\(fixtures)/ten-steps.yaml"] + common)
      #expect(second.status == 5, "\(second.output)")
      #expect(second.output.contains("20261127T000000-held-by-test"))
      #expect(second.output.contains("pid \(POSIX.processID)"))
      #expect(runs().isEmpty, "nothing may start while the lock is held")
      withExtendedLifetime(lock) {}
    }

    @Test("the lock frees itself when its holder is killed")
    func lockFreedByCrash() async throws {
      let file = "/tmp/nexus-dr-crash-\(UUID().uuidString.prefix(8))"
      let crashed = try await CLIProcess.run(
        ["run", "\(fixtures)/six-appends.yaml", "--input", "file=\(file)"] + common,
        environment: ["NEXUS_DR_CRASH_AT": "two:after-start"])
      #expect(crashed.status == 128 + SIGKILL)
      #expect(RunLock.holder(stateDirectory: state.path, environment: "lab") == nil)
      let next = try await CLIProcess.run(["run", "\(fixtures)/ten-steps.yaml"] + common)
      #expect(next.status == 0, "\(next.output)")
      #expect(next.output.contains("is unfinished"), "a new run warns about the unfinished one")
    }

    @Test("a question with no terminal and no answer ends the run with exit 4")
    func unansweredQuestion() async throws {
      let runbook = try state.write(
        "confirm.yaml",
        """
        runbook: confirm-gate
        steps:
          - { id: ask, action: confirm, with: { text: "Drop everything?" } }
          - { id: after, host: gate, action: shell, with: { argv: [true] } }
        """)
      let result = try await CLIProcess.run(["run", runbook] + common)
      #expect(result.status == 4, "\(result.output)")
      #expect(result.output.contains("confirm.ask"))
      let run = try #require(runs().last)
      #expect(!run.records.contains { $0.step == "after" && $0.type == .stepStarted })
      // --yes answers a confirmation outside production; the run then completes on resume.
      let resumed = try await CLIProcess.run(["resume", "--yes"] + common)
      #expect(resumed.status == 0, "\(resumed.output)")
    }

    @Test("--yes never answers a resume question")
    func yesDoesNotAnswerResume() async throws {
      let file = "/tmp/nexus-dr-crash-\(UUID().uuidString.prefix(8))"
      _ = try await CLIProcess.run(
        ["run", "\(fixtures)/six-appends.yaml", "--input", "file=\(file)"] + common,
        environment: ["NEXUS_DR_CRASH_AT": "three:after-start"])
      let resumed = try await CLIProcess.run(["resume", "--yes"] + common)
      #expect(resumed.status == 4, "\(resumed.output)")
      #expect(resumed.output.contains("resume.three"))
    }

    @Test("SIGINT stops the remote command (checked on the host), exits 130, and resume completes")
    func interrupt() async throws {
      let marker = "5\(Int.random(in: 100_000...999_999)).5"
      let flag = "/tmp/nexus-dr-int-\(UUID().uuidString.prefix(8))"
      let runbook = try state.write(
        "interrupt.yaml",
        """
        runbook: interrupt-me
        steps:
          - { id: before, host: gate, action: shell, with: { argv: [true] } }
          - id: long
            host: gate
            action: shell
            idempotent: true
            with: { command: "if [ -e \(flag) ]; then exit 0; fi; touch \(flag); sleep \(marker)" }
          - { id: after, host: gate, action: shell, with: { argv: [true] } }
        """)
      try await lab.withSSH("gate") { gate in
        let process = try CLIProcess(["run", runbook] + common)
        let started = try await eventually { try await gate.run(.argv(["pgrep", "-f", "sleep \(marker)"])).succeeded }
        #expect(started, "\(process.output)")
        process.signal(SIGINT)
        #expect(await process.wait() == 130, "\(process.output)")
        #expect(
          try await gate.run(.argv(["pgrep", "-f", "sleep \(marker)"])).exitCode == 1,
          "the remote command must be stopped")
        let run = try #require(runs().last)
        #expect(run.records.contains { $0.type == .interrupted && $0.step == "long" })
        #expect(run.state(lockHeldByThisRun: false) == .interrupted)
        let resumed = try await CLIProcess.run(["resume", run.runID] + common)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(try #require(runs().last).completedOutputs.keys.sorted() == ["after", "before", "long"])
        _ = try await gate.run(.argv(["rm", "-f", flag]))
      }
    }

    @Test("a step ended by its timeout is uncertain: not retried, and resume asks before re-running it")
    func timeoutIsUncertain() async throws {
      let marker = "4\(Int.random(in: 100_000...999_999)).5"
      let runbook = try state.write(
        "timeout.yaml",
        """
        runbook: time-out
        steps:
          - { id: slow, host: gate, action: shell, timeout: 1s, retries: 3, with: { argv: [sleep, "\(marker)"] } }
          - { id: after, host: gate, action: shell, with: { argv: [true] } }
        """)
      let result = try await CLIProcess.run(["run", runbook] + common)
      #expect(result.status == 1, "\(result.output)")
      let run = try #require(runs().last)
      #expect(
        run.records.filter { $0.type == .stepStarted }.count == 1,
        "a non-idempotent step is not retried after a timeout")
      #expect(run.records.contains { $0.type == .stepFailed && $0.failure == .uncertain })
      try await lab.withSSH("gate") { gate async throws in
        #expect(
          try await gate.run(.argv(["pgrep", "-f", "sleep \(marker)"])).exitCode == 1,
          "the timed-out command is gone from the host")
      }
      let resumed = try await CLIProcess.run(["resume"] + common)
      #expect(resumed.status == 4, "\(resumed.output)")
      #expect(resumed.output.contains("resume.slow"))
    }

    @Test("a changed runbook is refused on resume, showing what changed")
    func changedRunbook() async throws {
      let file = "/tmp/nexus-dr-crash-\(UUID().uuidString.prefix(8))"
      let original = try String(contentsOfFile: "\(fixtures)/six-appends.yaml", encoding: .utf8)
      let copy = try state.write("six.yaml", original)
      _ = try await CLIProcess.run(
        ["run", copy, "--input", "file=\(file)"] + common, environment: ["NEXUS_DR_CRASH_AT": "two:after-complete"])
      try original.replacingOccurrences(of: "echo three >>", with: "echo THREE >>").write(
        toFile: copy, atomically: true, encoding: .utf8)
      let resumed = try await CLIProcess.run(["resume"] + common)
      #expect(resumed.status == 2, "\(resumed.output)")
      #expect(resumed.output.contains("changed since run"))
      #expect(
        resumed.output.contains("+    with: { command: \"echo begin-three"),
        "the diff shows the changed line: \(resumed.output)")
    }
  }
}
