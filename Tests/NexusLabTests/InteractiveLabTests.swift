import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// nexus-dr on a real pseudo-terminal (tmux), answered by keystrokes.
  @Suite("Interactive prompts on a terminal (lab)", .serialized)
  struct InteractiveLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let local = LocalTransport()

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-tty")
    }

    func tmux(_ arguments: [String]) async throws -> CommandResult {
      try await local.run(.argv(["tmux"] + arguments, timeout: .seconds(20)))
    }

    /// Starts nexus-dr in a detached tmux session; its exit status lands in `statusFile`.
    func startSession(_ name: String, runbook: String, statusFile: String) async throws {
      let command =
        ShellQuote.commandLine([
          BuiltTool.path, "run", runbook, "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path,
        ]) + "; echo $? > " + ShellQuote.quote(statusFile) + "; sleep 30"
      _ = try await tmux(["new-session", "-d", "-s", name, "-x", "160", "-y", "50", command]).checked(
        host: "local", command: .argv(["tmux"]))
    }

    func screen(_ name: String) async throws -> String {
      try await tmux(["capture-pane", "-p", "-t", name]).stdoutText
    }

    @Test("a destructive step's confirmation is refused with 'no', then accepted with 'yes'")
    func refuseThenAccept() async throws {
      let marker = "/tmp/nexus-dr-tty-\(UUID().uuidString.prefix(8))"
      let runbook = try state.write(
        "destructive.yaml",
        """
        runbook: tty-confirm
        steps:
          - { id: look, host: gate, action: shell, with: { argv: [hostname] } }
          - { id: wipe, title: Create the marker, host: gate, action: shell, destructive: true, with: { argv: [touch, "\(marker)"] } }
        """)
      try await lab.withSSH("gate") { gate in
        for (answer, expectedStatus) in [("no", "4"), ("yes", "0")] {
          let session = "nexusdr-\(UUID().uuidString.prefix(6))"
          let statusFile = state.file("status-\(answer)")
          try await startSession(session, runbook: runbook, statusFile: statusFile)
          let asked = try await eventually { try await screen(session).contains("[yes/no] >") }
          let shown = try await screen(session)
          #expect(asked, "no prompt on the terminal:\n\(shown)")
          #expect(shown.contains("is destructive"))
          #expect(shown.contains("touch \(marker)"), "the prompt shows the exact command")
          #expect(try await gate.run(.argv(["test", "-e", marker])).exitCode == 1, "nothing ran before the answer")
          _ = try await tmux(["send-keys", "-t", session, answer, "Enter"])
          let finished = await eventually {
            FileManager.default.fileExists(atPath: statusFile)
              && !((try? String(contentsOfFile: statusFile, encoding: .utf8)) ?? "").isEmpty
          }
          let after = try await screen(session)
          #expect(finished, "nexus-dr did not finish:\n\(after)")
          let status = try String(contentsOfFile: statusFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
          #expect(status == expectedStatus, "answer \(answer):\n\(after)")
          let exists = try await gate.run(.argv(["test", "-e", marker])).exitCode == 0
          #expect(exists == (answer == "yes"), "after '\(answer)' the marker \(exists ? "exists" : "is missing")")
          _ = try await tmux(["kill-session", "-t", session])
        }
        let runs = RunDirectory.all(stateDirectory: state.path)
        #expect(runs.map { $0.state(lockHeldByThisRun: false) } == [.declined, .completed])
        #expect(runs.last?.answers["confirm.wipe"] == "yes")
        _ = try await gate.run(.argv(["rm", "-f", marker]))
      }
    }
  }
}
