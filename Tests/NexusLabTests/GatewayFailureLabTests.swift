import Foundation
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// `nexus-dr gateway-failure` after nexus-gate was really cut off the network: the
  /// standby takes over with the snapshot's configuration and the key from secure storage.
  /// Every test puts the lab's gate back (`scripts/lab gate-up`) before and after.
  @Suite("gateway-failure (lab)", .serialized)
  struct GatewayFailureLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let repository: String
    let local = LocalTransport()

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-gateway-failure")
      repository = Lab.repository
    }

    var common: [String] {
      [
        "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }
    var keyFile: String { get throws { try lab.value("GATE_WG_KEY") } }

    func answers() throws -> String {
      try state.write("answers.yaml", "confirm.install-config: yes\nmanual.old-gate: done\n")
    }

    /// ipad-1's acknowledged sequence numbers, from its acked.log.
    func acked() throws -> [Int64] {
      try String(contentsOfFile: try lab.value("ACKED_LOG"), encoding: .utf8)
        .split(separator: "\n").compactMap { $0.split(separator: "\t").first.flatMap { Int64($0) } }
    }

    /// Acknowledged records (of `seqs`) that are not in staging.sync_inbox.
    func missing(_ seqs: [Int64]) async throws -> [Int64] {
      let present = try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
        Set(
          try await postgres.query("SELECT seq FROM staging.sync_inbox WHERE device = 'ipad-1'").rows.compactMap {
            try? $0.decode(Int64.self, "seq")
          })
      }
      return seqs.filter { !present.contains($0) }
    }

    /// A snapshot of the gate's configuration on the NAS (what the nightly's config-snapshot
    /// leaves), then the failure. Returns ipad-1's acknowledgements before the failure.
    func failGate() async throws -> [Int64] {
      try await lab.command(["gate-up"])
      // Only this test's window: earlier suites restore the database to earlier points on purpose.
      let since = try acked().last ?? 0
      let snapshot = try await CLIProcess.run(["run", "config-snapshot", "--yes"] + common)
      #expect(snapshot.status == 0, "\(snapshot.output)")
      let count = try acked().count
      #expect(try await eventually(within: .seconds(60)) { try acked().count >= count + 5 })
      let before = try acked().filter { $0 > since }
      #expect(!before.isEmpty)
      try await lab.command(["gate-down"])
      return before
    }

    /// The standby is the gate: it holds the gate's address and its configuration (0600,
    /// identical to the snapshot but for the key), runs the gate's public key, and ipad-1's
    /// pushes are acknowledged again with nothing acknowledged before the failure missing.
    func checkTakenOver(acknowledgedBefore: [Int64]) async throws {
      try await lab.withSSH("gate-standby") { standby in
        let gateIP = try lab.value("GATE_IP")
        let addresses = try await standby.runChecked(.argv(["ip", "-o", "-4", "addr", "show", "dev", "eth0"]))
          .stdoutText
        #expect(addresses.contains(" \(gateIP)/24"), "the standby holds the gate's address: \(addresses)")
        #expect(addresses.components(separatedBy: " \(gateIP)/").count == 2, "once")
        let key = try String(contentsOfFile: try keyFile, encoding: .utf8).trimmingCharacters(
          in: .whitespacesAndNewlines)
        let running = try await standby.runChecked(.argv(["wg", "show", "wg0", "public-key"])).stdoutText
          .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(running == (try WireGuardKey.publicKey(ofPrivate: key)))
        let mode = try await standby.runChecked(.argv(["stat", "-c", "%a", "/etc/wireguard/wg0.conf"])).stdoutText
          .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(mode == "600")
        let leftovers = try await standby.runChecked(.shell("ls -1 /etc/wireguard")).stdoutText.trimmingCharacters(
          in: .whitespacesAndNewlines)
        #expect(leftovers == "wg0.conf", "nothing else in /etc/wireguard: \(leftovers)")
        // Byte for byte the snapshot, but for the PrivateKey line.
        let installed = try await standby.runChecked(.argv(["cat", "/etc/wireguard/wg0.conf"])).stdoutText
        try await lab.withSSH("server") { server in
          let snapshot = try await server.runChecked(
            .shell("cat \"$(ls -1d /mnt/nas/nexus-backup/config/*/gate/etc/wireguard/wg0.conf | sort | tail -n 1)\"")
          ).stdoutText
          #expect(
            installed.replacingOccurrences(of: "PrivateKey = \(key)", with: "PrivateKey = [REDACTED]") == snapshot)
        }
      }
      let after = try acked().count
      #expect(
        try await eventually(within: .seconds(60)) { try acked().count > after + 5 },
        "ipad-1's pushes are acknowledged again")
      #expect(
        try await missing(acknowledgedBefore) == [],
        "every record acknowledged before the failure is in staging.sync_inbox")
    }

    /// No file nexus-dr wrote (journals, reports) nor the NAS holds the gate's private key.
    func checkNoSecrets() async throws {
      let key = try String(contentsOfFile: try keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(key.count == 44)
      for directory in [state.path, try lab.value("NAS_MOUNT")] {
        let found = try await local.run(.argv(["grep", "-rlF", "--", key, directory], timeout: .seconds(120)))
        #expect(found.exitCode == 1, "the private key in: \(found.stdoutText)")
      }
    }

    @Test(
      "end to end after the gate is cut off: the standby takes over, every peer handshakes, ipad-1's pushes are acknowledged again, nothing lost"
    )
    func endToEnd() async throws {
      let before = try await failGate()
      let run = try await CLIProcess.run(
        ["gateway-failure", "--key-file", try keyFile, "--answers", try answers()] + common)
      #expect(run.status == 0, "\(run.output)")
      #expect(
        run.output.contains("answers neither ping nor SSH from nexus-server"),
        "the preflight established the gate is down")
      #expect(run.output.contains("is nexus-server's peer"), "the key was checked against the server's peers")
      #expect(run.output.contains("2 peer(s) with a recent handshake"), "\(run.output)")
      #expect(run.output.contains("sync resumed"))
      let key = try String(contentsOfFile: try keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(!run.output.contains(key), "the key is never printed")
      try await checkTakenOver(acknowledgedBefore: before)
      try await checkNoSecrets()
      try await lab.command(["gate-up"])
    }

    @Test(
      "refused before anything changes: the gate still up (exit 3), no or a wrong key file (exit 2), a key that is not the gate's (exit 1, nothing installed)"
    )
    func refusals() async throws {
      try await lab.command(["gate-up"])
      let up = try await CLIProcess.run(
        ["gateway-failure", "--key-file", try keyFile, "--answers", try answers()] + common)
      #expect(up.status == 3, "\(up.output)")
      #expect(up.output.contains("the gate is not down"))
      _ = try await failGate()
      let noKey = try await CLIProcess.run(["gateway-failure", "--answers", try answers()] + common)
      #expect(noKey.status == 2 && noKey.output.contains("needs --key-file"), "\(noKey.output)")
      let garbage = try state.write("not-a-key", "hello\n")
      let bad = try await CLIProcess.run(
        ["gateway-failure", "--key-file", garbage, "--answers", try answers()] + common)
      #expect(bad.status == 2 && bad.output.contains("not a WireGuard private key"), "\(bad.output)")
      let other = try await local.runChecked(.argv(["wg", "genkey"])).stdoutText
      let otherFile = try state.write("other.key", other)
      let wrong = try await CLIProcess.run(
        ["gateway-failure", "--key-file", otherFile, "--answers", try answers()] + common)
      #expect(wrong.status == 1, "\(wrong.output)")
      #expect(wrong.output.contains("is not nexus-gate's"), "\(wrong.output)")
      #expect(!wrong.output.contains(other.trimmingCharacters(in: .whitespacesAndNewlines)), "the key is never printed")
      try await lab.withSSH("gate-standby") { standby in
        let files = try await standby.runChecked(.shell("ls -A /etc/wireguard | wc -l")).stdoutText.trimmingCharacters(
          in: .whitespacesAndNewlines)
        #expect(files == "0", "nothing installed on the standby")
        let addresses = try await standby.runChecked(.argv(["ip", "-o", "-4", "addr", "show", "dev", "eth0"]))
          .stdoutText
        #expect(!addresses.contains(" \(try lab.value("GATE_IP"))/"), "the address was not taken")
      }
      try await lab.command(["gate-up"])
    }

    @Test("a gate that drops ping but still runs sshd is alive: the preflight refuses (exit 3), nothing changes")
    func gateDropsPing() async throws {
      try await lab.command(["gate-up"])
      let (ping, snapshot, run) = try await lab.withSSH("gate") { gate in
        let rule = ["INPUT", "-p", "icmp", "--icmp-type", "echo-request", "-j", "DROP"]
        _ = try await gate.runChecked(.argv(["iptables", "-I"] + rule))
        let ping = try await lab.withSSH("server") { server in
          try await server.run(.argv(["ping", "-c", "1", "-W", "1", try lab.value("GATE_IP")]))
        }
        // The preflight alone (a snapshot on the NAS first, so that only the gate check can fail).
        let snapshot = try await CLIProcess.run(["run", "config-snapshot", "--yes"] + common)
        let run = try await CLIProcess.run(["preflight", "gateway-failure"] + common)
        _ = try await gate.runChecked(.argv(["iptables", "-D"] + rule))
        return (ping, snapshot, run)
      }
      #expect(ping.exitCode != 0, "the gate still answers ping: the rule did not take")
      #expect(snapshot.status == 0, "\(snapshot.output)")
      #expect(run.status == 3, "\(run.output)")
      #expect(run.output.contains("[FAIL] nexus-gate is down"), "\(run.output)")
      #expect(run.output.contains("accepts SSH (port 22) from nexus-server: the gate is not down"), "\(run.output)")
      try await lab.withSSH("gate-standby") { standby in
        let files = try await standby.runChecked(.shell("ls -A /etc/wireguard | wc -l")).stdoutText.trimmingCharacters(
          in: .whitespacesAndNewlines)
        #expect(files == "0", "nothing installed on the standby")
      }
    }

    @Test("net.take-address refuses an address that still answers (the gate is up): nothing added")
    func takeLiveAddress() async throws {
      try await lab.command(["gate-up"])
      let runbook = try state.write(
        "take-live-address.yaml",
        """
        runbook: take-live-address
        title: Take an address that is still in use
        steps:
          - id: take
            title: Take the gate's address while the gate is up
            host: gate-standby
            action: net.take-address
            with: { address: "{{ env.hosts.gate.address }}" }
        """)
      let run = try await CLIProcess.run(["run", runbook, "--yes"] + common)
      #expect(run.status == 1, "\(run.output)")
      #expect(run.output.contains("still answers"), "\(run.output)")
      let addresses = try await lab.withSSH("gate-standby") { standby in
        try await standby.runChecked(.argv(["ip", "-o", "-4", "addr", "show", "dev", "eth0"])).stdoutText
      }
      #expect(!addresses.contains(" \(try lab.value("GATE_IP"))/"), "nothing added: \(addresses)")
    }

    @Test(
      "kill -9 right after the configuration was written, and again right after the address was taken: resume completes, nothing done twice"
    )
    func killAndResume() async throws {
      let before = try await failGate()
      let first = try await CLIProcess.run(
        ["gateway-failure", "--key-file", try keyFile, "--answers", try answers()] + common,
        environment: ["NEXUS_DR_CRASH_AT": "install-config:after-command"])
      #expect(first.status == 128 + SIGKILL, "\(first.output)")
      let second = try await CLIProcess.run(
        ["resume", "--answers", try answers()] + common,
        environment: ["NEXUS_DR_CRASH_AT": "take-address:after-command"])
      #expect(second.status == 128 + SIGKILL, "\(second.output)")
      #expect(
        second.output.contains("already installed"),
        "the configuration written before the kill is recognised: \(second.output)")
      let resumed = try await CLIProcess.run(["resume", "--answers", try answers()] + common)
      #expect(resumed.status == 0, "\(resumed.output)")
      #expect(
        resumed.output.contains("already here"), "the address taken before the kill is recognised: \(resumed.output)")
      try await checkTakenOver(acknowledgedBefore: before)
      try await checkNoSecrets()
      try await lab.command(["gate-up"])
    }

    @Test("on a terminal: the confirmation and the last manual step answered by keystrokes")
    func interactive() async throws {
      let before = try await failGate()
      let session = "nexusdr-gw-\(UUID().uuidString.prefix(6))"
      let statusFile = state.file("status-interactive")
      let command =
        ShellQuote.commandLine([BuiltTool.path, "gateway-failure", "--key-file", try keyFile] + common) + "; echo $? > "
        + ShellQuote.quote(statusFile) + "; sleep 30"
      _ = try await local.runChecked(
        .argv(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "60", command], timeout: .seconds(20)))
      func screen() async throws -> String {
        try await local.run(.argv(["tmux", "capture-pane", "-p", "-t", session], timeout: .seconds(20))).stdoutText
      }
      let confirm = try await eventually(within: .seconds(60)) { try await screen().contains("[yes/no] >") }
      let confirmScreen = try await screen()
      #expect(confirm, "installing the configuration asks first:\n\(confirmScreen)")
      _ = try await local.run(.argv(["tmux", "send-keys", "-t", session, "yes", "Enter"], timeout: .seconds(20)))
      let manual = try await eventually(within: .seconds(240)) {
        let shown = try await screen()
        return shown.contains("Keep the old nexus-gate powered off") && shown.contains("[done")
      }
      let manualScreen = try await screen()
      #expect(manual, "the last manual step is shown:\n\(manualScreen)")
      _ = try await local.run(.argv(["tmux", "send-keys", "-t", session, "done", "Enter"], timeout: .seconds(20)))
      let finished = await eventually(within: .seconds(60)) {
        !((try? String(contentsOfFile: statusFile, encoding: .utf8)) ?? "").isEmpty
      }
      let shown = try await screen()
      _ = try await local.run(.argv(["tmux", "kill-session", "-t", session], timeout: .seconds(20)))
      #expect(finished, "gateway-failure did not finish:\n\(shown)")
      #expect(
        try String(contentsOfFile: statusFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "0",
        "\(shown)")
      try await checkTakenOver(acknowledgedBefore: before)
      try await lab.command(["gate-up"])
    }
  }
}
