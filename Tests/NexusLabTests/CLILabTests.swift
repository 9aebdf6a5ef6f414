import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// The built `nexus-dr` binary, run as an operator runs it.
  @Suite("nexus-dr command line (lab)", .serialized)
  struct CLILabTests {
    let lab: Lab
    let local = LocalTransport()

    init() throws { lab = try Lab.require() }

    func nexusDR(_ arguments: [String]) async throws -> CommandResult {
      try await local.run(.argv([BuiltTool.path] + arguments, timeout: .seconds(120)))
    }

    @Test("hosts check shows every host's own hostname and the database version")
    func hostsCheck() async throws {
      let result = try await nexusDR(["hosts", "check", "--env", "lab", "--inventory", lab.inventoryPath])
      #expect(result.exitCode == 0, "\(result.stdoutText)\n\(result.stderrText)")
      for name in ["nexus-server", "nexus-gate", "nexus-gate-standby"] {
        #expect(result.stdoutText.contains(" \(name) "), "missing \(name) in:\n\(result.stdoutText)")
      }
      #expect(result.stdoutText.contains("PostgreSQL 15."))
      #expect(result.stdoutText.contains("WAL archiving: on"))
    }

    @Test(
      "--host sends a host elsewhere for one run (the standby as the gate); journal and report say so; resume keeps it")
    func hostOverride() async throws {
      let scratch = try ScratchDirectory()
      let standby = try lab.value("STANDBY_IP")
      let runbook = try scratch.write(
        "two.yaml",
        """
        runbook: two-hostnames
        steps:
          - { id: one, host: gate, action: shell, with: { argv: [hostname] } }
          - { id: two, host: gate, action: shell, with: { argv: [hostname] } }
        """)
      let common = ["--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", scratch.path]
      let bad = try await nexusDR(["run", runbook, "--host", "nas=\(standby)"] + common)
      #expect(bad.exitCode == 2, "an unknown host name is refused before anything runs")
      #expect(bad.stderrText.contains("--host: error: environment lab has no host 'nas'"), "\(bad.stderrText)")
      let crashed = try await local.run(
        HostCommand(
          .argv([BuiltTool.path, "run", runbook, "--host", "gate=\(standby)"] + common),
          environment: ["NEXUS_DR_CRASH_AT": "two:before-start"], timeout: .seconds(120)))
      #expect(
        crashed.termination == .signaled("KILL") || crashed.termination == .signaled("9"), "\(crashed.termination)")
      #expect(crashed.stdoutText.contains("nexus-gate-standby"), "step one ran on the standby: \(crashed.stdoutText)")
      #expect(crashed.stderrText.contains("for this run, host gate is root@\(standby):22 (--host)"))
      let resumed = try await nexusDR(["resume"] + common)
      #expect(resumed.exitCode == 0, "\(resumed.stdoutText)\(resumed.stderrText)")
      #expect(resumed.stdoutText.contains("nexus-gate-standby"), "resume kept the override: \(resumed.stdoutText)")
      let run = try #require(RunDirectory.all(stateDirectory: scratch.path).first)
      #expect(run.started?.hostOverrides == ["gate=root@\(standby):22"])
      let report = try String(contentsOfFile: "\(scratch.path)/runs/\(run.runID)/report.md", encoding: .utf8)
      #expect(report.contains("Hosts overridden (--host) | gate=root@\(standby):22"), "\(report)")
    }

    @Test("hosts check with a forged known_hosts exits 3 and says the key changed")
    func hostsCheckChangedKey() async throws {
      let scratch = try ScratchDirectory()
      let known = try String(contentsOfFile: lab.knownHosts, encoding: .utf8)
      let gate = try lab.value("GATE_IP")
      let server = try lab.value("SERVER_IP")
      // Give the gate the server's key: what a man in the middle looks like.
      let serverKey = try #require(known.split(separator: "\n").first { $0.hasPrefix(server + " ") }).dropFirst(
        server.count)
      let rewritten =
        known.split(separator: "\n").map { $0.hasPrefix(gate + " ") ? gate + serverKey : String($0) }
        .joined(separator: "\n") + "\n"
      let knownFile = try scratch.write("known_hosts", rewritten)
      let inventory = try String(contentsOfFile: lab.inventoryPath, encoding: .utf8)
        .replacingOccurrences(of: lab.knownHosts, with: knownFile)
      let inventoryFile = try scratch.write("inventory.yaml", inventory)
      let result = try await nexusDR(["hosts", "check", "--inventory", inventoryFile])
      #expect(result.exitCode == 3)
      #expect(result.stderrText.contains("HOST KEY CHANGED"))
      #expect(result.stdoutText.contains(" nexus-server "))
    }
  }
}
