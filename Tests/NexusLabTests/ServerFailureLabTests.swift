import Foundation
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// `nexus-dr server-failure` after nexus-server was really destroyed (every process killed,
  /// its disk removed; the NAS survives) and a fresh machine provisioned in its place. Each
  /// test brings the lab up first and resets it at the end (the server it rebuilt has new
  /// keys and a recovered database: the other suites get a fresh lab).
  @Suite("server-failure (lab)", .serialized)
  struct ServerFailureLabTests {
    let state: ScratchDirectory
    let repository: String
    let local = LocalTransport()

    init() throws {
      state = try ScratchDirectory("nexus-dr-server-failure")
      repository = Lab.repository
    }

    func common(_ lab: Lab) -> [String] {
      [
        "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }

    /// ipad-1's acknowledgements: seq and when.
    static func acked(_ lab: Lab) throws -> [(seq: Int64, at: Date)] {
      try String(contentsOfFile: try lab.value("ACKED_LOG"), encoding: .utf8).split(separator: "\n").compactMap {
        line in
        let fields = line.split(separator: "\t")
        guard fields.count == 2, let seq = Int64(fields[0]), let at = parseTime(String(fields[1])) else { return nil }
        return (seq, at)
      }
    }

    /// `2026-11-27T18:02:27.671Z` (the pusher) or `2026-11-27 18:02:27.864549+00` (PostgreSQL), to the millisecond.
    static func parseTime(_ text: String) -> Date? {
      guard let match = text.firstMatch(of: #/(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?/#) else { return nil }
      let formatter = DateFormatter()
      formatter.locale = Locale(identifier: "en_US_POSIX")
      formatter.timeZone = TimeZone(identifier: "UTC")
      formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
      guard let whole = formatter.date(from: "\(match.output.1) \(match.output.2)") else { return nil }
      let fraction = match.output.3.map { Double("0" + $0) ?? 0 } ?? 0
      return whole.addingTimeInterval(fraction)
    }

    struct Before {
      var lab: Lab
      var gateConfig: String
      var oldServerKey: String
      var acked: [(seq: Int64, at: Date)]
      var fingerprint: String
    }

    /// The routine leaves a config snapshot, a dump and a base backup; ipad-1 pushes on (part of
    /// it never archived); then the server dies with its disk and a fresh machine takes its place.
    func destroyServer() async throws -> Before {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      // Only this test's window: earlier suites restore the database to earlier points on purpose.
      let since = try Self.acked(lab).last?.seq ?? 0
      for arguments in [["run", "config-snapshot", "--yes"], ["routine", "nightly"], ["routine", "weekly"]] {
        let run = try await CLIProcess.run(arguments + common(lab))
        #expect(run.status == 0, "\(arguments): \(run.output)")
      }
      // The old server's postgres had another uid than the new install's: the snapshot's copy
      // carries a number this machine does not know. Restored by name, PostgreSQL can read it.
      let nas = try lab.value("NAS_MOUNT")
      let latest =
        try FileManager.default.contentsOfDirectory(atPath: "\(nas)/config").filter { $0.hasPrefix("2") }.sorted().last
        ?? ""
      _ = try await local.runChecked(
        .argv(["chown", "4242:4242", "\(nas)/config/\(latest)/server/etc/postgresql/15/main/pg_hba.conf"]))
      let gateConfig = try await lab.withSSH("gate") { gate in
        try await gate.runChecked(.argv(["cat", "/etc/wireguard/wg0.conf"])).stdoutText
      }
      let config = WireGuardConfig(text: gateConfig)
      let oldKey = try #require(
        config.peer(allowing: try lab.value("SERVER_WG_IP")).flatMap { config.value(of: "PublicKey", in: $0) })
      // Some records after the last archived segment: the server takes them with it.
      let count = try Self.acked(lab).count
      #expect(try await eventually(within: .seconds(60)) { try Self.acked(lab).count >= count + 10 })
      let acked = try Self.acked(lab).filter { $0.seq > since }
      try await lab.command(["server-destroy"])
      try await lab.command(["server-provision"])
      let fingerprint = try await local.runChecked(
        .argv([
          "ssh-keygen", "-l", "-E", "sha256", "-f", "\(lab.directory)/hosts/nexus-server/ssh_host_ed25519_key.pub",
        ])
      ).stdoutText
        .split(separator: " ")[1]
      return Before(
        lab: lab, gateConfig: gateConfig, oldServerKey: oldKey, acked: acked, fingerprint: String(fingerprint))
    }

    func answers(_ before: Before) throws -> String {
      try state.write(
        "answers.yaml",
        """
        manual.provision: done
        fingerprint.new-server: \(before.fingerprint)
        choose.choose-restore-point: pitr-latest
        confirm.restore: yes
        confirm.gate-peer: yes
        manual.confirm-resync: done
        """)
    }

    /// A step's outputs from the run's report.json.
    func outputs(_ step: String) throws -> [String: String] {
      let runs = try FileManager.default.contentsOfDirectory(atPath: state.path + "/runs").filter {
        $0.contains("server-failure")
      }.sorted()
      let data = try Data(contentsOf: URL(fileURLWithPath: "\(state.path)/runs/\(try #require(runs.last))/report.json"))
      let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      let steps = try #require(report["steps"] as? [[String: Any]])
      let found = try #require(steps.first { $0["id"] as? String == step }, "step \(step) in the report")
      var result: [String: String] = [:]
      for pair in (found["outputs"] as? [[String: Any]]) ?? [] {
        if let key = pair["key"] as? String, let value = pair["value"] as? String { result[key] = value }
      }
      return result
    }

    /// The new server holds the database up to the restore point and no acknowledged record
    /// before it is missing; what is missing lies after it and after what the report says the
    /// restore holds; the gate's file changed in the server's key alone; sync resumes; no secret leaked.
    func checkRecovered(_ before: Before, output: String = "") async throws {
      let lab = before.lab
      let recoveredTo = try #require(
        Self.parseTime(try outputs("restore")["recovered_to"] ?? ""), "restore.recovered_to")
      let holds = try outputs("restored-through")["stdout"] ?? ""
      let line = try #require(
        holds.split(separator: "\n").first { $0.hasPrefix("ipad-1: seq ") },
        "the report says what the restore holds of ipad-1: \(holds)")
      let restoredSeq = try #require(Int64(line.dropFirst("ipad-1: seq ".count).prefix { $0.isNumber }))
      #expect(try outputs("choose-restore-point")["loss_window"]?.contains("gone with it") == true)

      let (present, timeline) = try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
        let present = Set(
          try await postgres.query("SELECT seq FROM staging.sync_inbox WHERE device = 'ipad-1'").rows.compactMap {
            try? $0.decode(Int64.self, "seq")
          })
        let timeline =
          try await postgres.query("SELECT timeline_id::text AS t FROM pg_control_checkpoint()").first?["t"] ?? ""
        return (present, timeline)
      }
      #expect((Int(timeline) ?? 0) >= 2, "recovered onto a new timeline: \(timeline)")
      let missing = before.acked.filter { !present.contains($0.seq) }
      #expect(
        before.acked.filter { $0.at <= recoveredTo && !present.contains($0.seq) }.isEmpty,
        "every record acknowledged up to the restore point \(recoveredTo) is there")
      #expect(
        missing.allSatisfy { $0.seq > restoredSeq && $0.at > recoveredTo },
        "what is lost lies after what the report says the restore holds (seq \(restoredSeq)): \(missing.map(\.seq))")
      #expect(before.acked.contains { $0.seq <= restoredSeq })

      // The gate: only the server's PublicKey changed; the file before is kept once.
      let (after, kept, peers) = try await lab.withSSH("gate") { gate in
        let after = try await gate.runChecked(.argv(["cat", "/etc/wireguard/wg0.conf"])).stdoutText
        let kept = try await gate.runChecked(.shell("ls -1 /etc/wireguard | grep -c '^wg0.conf.before-' || true"))
          .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let peers = try await gate.runChecked(.argv(["wg", "show", "wg0", "peers"])).stdoutText
        return (after, kept, peers)
      }
      let (newKey, serverPrivate, modes) = try await lab.withSSH("server") { server in
        let newKey = try await server.runChecked(.argv(["wg", "show", "wg0", "public-key"])).stdoutText
          .trimmingCharacters(in: .whitespacesAndNewlines)
        let serverPrivate = try await server.runChecked(.shell("sed -n 's/^PrivateKey = //p' /etc/wireguard/wg0.conf"))
          .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let modes = try await server.runChecked(
          .shell("stat -c '%a %n' /etc/nexus/secrets/pgpass /etc/nexus/tls/server.key /root/.pgpass")
        ).stdoutText
        let hba = try await server.runChecked(.shell("stat -c '%U %G %a' /etc/postgresql/15/main/pg_hba.conf"))
          .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hba == "postgres postgres 640", "owners restored by name: \(hba)")
        return (newKey, serverPrivate, modes)
      }
      #expect(newKey != before.oldServerKey && newKey.count == 44)
      #expect(before.gateConfig.components(separatedBy: before.oldServerKey).count == 2)
      #expect(
        after == before.gateConfig.replacingOccurrences(of: before.oldServerKey, with: newKey),
        "wg0.conf differs only in the server's key:\n\(after)")
      #expect(kept == "1", "the file before the edit is kept once")
      #expect(peers.contains(newKey) && !peers.contains(before.oldServerKey), "applied: \(peers)")
      #expect(modes.split(separator: "\n").allSatisfy { $0.hasPrefix("600 ") }, "\(modes)")

      let count = try Self.acked(lab).count
      #expect(
        try await eventually(within: .seconds(60)) { try Self.acked(lab).count > count + 5 },
        "ipad-1's pushes are acknowledged again")

      // Secrets: no file nexus-dr wrote, nor the NAS, holds a password or a private key.
      var secrets = try String(contentsOfFile: "\(lab.directory)/pgpass", encoding: .utf8).split(separator: "\n")
        .compactMap { $0.split(separator: ":").last.map(String.init) }
      secrets.append(
        try String(contentsOfFile: try lab.value("GATE_WG_KEY"), encoding: .utf8).trimmingCharacters(
          in: .whitespacesAndNewlines))
      secrets.append(
        try String(
          contentsOfFile: "\(lab.directory)/secure-storage/nexus-server/etc/nexus/secrets/api.key", encoding: .utf8
        ).trimmingCharacters(in: .whitespacesAndNewlines))
      secrets.append(serverPrivate)
      secrets = secrets.filter { $0.count >= 20 }
      #expect(secrets.count >= 5)
      let patterns = try state.write("secrets.txt", secrets.joined(separator: "\n") + "\n")
      for secret in secrets { #expect(!output.contains(secret), "a secret in the run's output") }
      for directory in [state.path + "/runs", try lab.value("NAS_MOUNT")] {
        let found = try await local.run(.argv(["grep", "-rlF", "-f", patterns, directory], timeout: .seconds(300)))
        #expect(found.exitCode == 1, "a secret in: \(found.stdoutText)")
      }
    }

    @Test(
      "end to end after the server is destroyed: new machine verified, set up, configuration + secrets + database restored, the gate re-keyed in place, ipad-1 syncs again"
    )
    func endToEnd() async throws {
      let before = try await destroyServer()
      let run = try await CLIProcess.run(
        [
          "server-failure", "--secrets-dir", "\(before.lab.directory)/secure-storage/nexus-server", "--answers",
          try answers(before),
        ] + common(before.lab))
      #expect(run.status == 0, "\(run.output)")
      #expect(run.output.contains("HOST KEY CHANGED"), "the preflight saw the old server gone")
      #expect(run.output.contains("the old entry for"), "the new host key was trusted after the fingerprint matched")
      #expect(run.output.contains("secret(s) in place"))
      #expect(run.output.contains("tunnels untouched"))
      try await checkRecovered(before, output: run.output)
      try await Lab.command(["reset"])
    }

    @Test("refused: a running server (exit 3); a fingerprint that is not the new server's (known_hosts untouched)")
    func refusals() async throws {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      let alive = try await CLIProcess.run(
        ["server-failure", "--answers", try state.write("a.yaml", "manual.provision: done\n")] + common(lab))
      #expect(alive.status == 3, "\(alive.output)")
      #expect(alive.output.contains("it is not down"))
      try await lab.command(["server-destroy"])
      try await lab.command(["server-provision"])
      let knownHosts = try String(contentsOfFile: lab.knownHosts, encoding: .utf8)
      let wrong = try await CLIProcess.run(
        [
          "server-failure", "--answers",
          try state.write(
            "b.yaml", "manual.provision: done\nfingerprint.new-server: SHA256:\(String(repeating: "A", count: 43))\n"),
        ] + common(lab))
      #expect(wrong.status == 1, "\(wrong.output)")
      #expect(wrong.output.contains("do not go on"), "\(wrong.output)")
      #expect(try String(contentsOfFile: lab.knownHosts, encoding: .utf8) == knownHosts, "known_hosts unchanged")
      try await Lab.command(["reset"])
    }

    @Test(
      "kill -9 after the base backup was extracted, and again right after the gate's file was edited (not yet applied): resume completes, nothing done twice"
    )
    func killAndResume() async throws {
      let before = try await destroyServer()
      let arguments = ["--answers", try answers(before)] + common(before.lab)
      let first = try await CLIProcess.run(
        ["server-failure", "--secrets-dir", "\(before.lab.directory)/secure-storage/nexus-server"] + arguments,
        environment: ["NEXUS_DR_CRASH_AT": "restore:after-extract"])
      #expect(first.status == 128 + SIGKILL, "\(first.output)")
      let second = try await CLIProcess.run(
        ["resume"] + arguments, environment: ["NEXUS_DR_CRASH_AT": "gate-peer:after-write"])
      #expect(second.status == 128 + SIGKILL, "\(second.output)")
      let (file, peers) = try await before.lab.withSSH("gate") { gate in
        let file = try await gate.runChecked(.argv(["cat", "/etc/wireguard/wg0.conf"])).stdoutText
        let peers = try await gate.runChecked(.argv(["wg", "show", "wg0", "peers"])).stdoutText
        return (file, peers)
      }
      #expect(!file.contains(before.oldServerKey), "the file was edited before the kill")
      #expect(peers.contains(before.oldServerKey), "but not applied yet")
      let resumed = try await CLIProcess.run(["resume"] + arguments)
      #expect(resumed.status == 0, "\(resumed.output)")
      #expect(
        resumed.output.contains(#/has PublicKey [A-Za-z0-9+\/]{43}= already/#),
        "the edit made before the kill is recognised: \(resumed.output)")
      let asides = try await before.lab.withSSH("server") { server in
        try await server.runChecked(.shell("ls -1d /var/lib/postgresql/15/main.new-cluster-* | wc -l")).stdoutText
          .trimmingCharacters(in: .whitespacesAndNewlines)
      }
      #expect(asides == "1", "the new install's cluster set aside once")
      try await checkRecovered(before)
      try await Lab.command(["reset"])
    }

    @Test(
      "on a terminal: the manual steps, the fingerprint, the restore point and the confirmations answered by keystrokes"
    )
    func interactive() async throws {
      let before = try await destroyServer()
      let session = "nexusdr-sf-\(UUID().uuidString.prefix(6))"
      let statusFile = state.file("status-interactive")
      let command =
        ShellQuote.commandLine(
          [BuiltTool.path, "server-failure", "--secrets-dir", "\(before.lab.directory)/secure-storage/nexus-server"]
            + common(before.lab))
        + "; echo $? > " + ShellQuote.quote(statusFile) + "; sleep 30"
      _ = try await local.runChecked(
        .argv(["tmux", "new-session", "-d", "-s", session, "-x", "220", "-y", "80", command], timeout: .seconds(20)))
      // The whole scrollback: a prompt counts once it has appeared `nth` times.
      func screen() async throws -> String {
        try await local.run(.argv(["tmux", "capture-pane", "-p", "-S", "-", "-t", session], timeout: .seconds(20)))
          .stdoutText
      }
      func answer(_ prompt: String, _ keys: String, nth: Int = 1, within: Duration = .seconds(120)) async throws {
        let shown = try await eventually(within: within) {
          try await screen().components(separatedBy: prompt).count > nth
        }
        let text = try await screen()
        #expect(shown, "waiting for '\(prompt)' (#\(nth)):\n\(text.suffix(3000))")
        _ = try await local.run(.argv(["tmux", "send-keys", "-t", session, keys, "Enter"], timeout: .seconds(20)))
      }
      try await answer("Install the new server (Ubuntu Server)", "done")
      try await answer("Fingerprint (SHA256:…) or abort >", before.fingerprint)
      try await answer("Choose (number or id) >", "pitr-latest")
      try await answer("[yes/no] >", "yes")
      try await answer("[yes/no] >", "yes", nth: 2, within: .seconds(240))
      try await answer("Ask each iPad user to open Nexus", "done", within: .seconds(240))
      let finished = await eventually(within: .seconds(60)) {
        !((try? String(contentsOfFile: statusFile, encoding: .utf8)) ?? "").isEmpty
      }
      let shown = try await screen()
      _ = try await local.run(.argv(["tmux", "kill-session", "-t", session], timeout: .seconds(20)))
      #expect(finished, "server-failure did not finish:\n\(shown)")
      #expect(
        try String(contentsOfFile: statusFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "0",
        "\(shown)")
      try await checkRecovered(before)
      try await Lab.command(["reset"])
    }
  }
}
