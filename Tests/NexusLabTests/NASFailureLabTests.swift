import Foundation
import NexusBackup
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// `nexus-dr nas-failure` after the NAS really went away: unmounted on nexus-server while
  /// the nightly and WAL archiving kept writing into the fallback.
  @Suite("nas-failure (lab)", .serialized)
  struct NASFailureLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let repository: String
    let nas: String
    let local = LocalTransport()
    let fallback = "/var/backups/nexus-fallback"

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-nas-failure")
      repository = Lab.repository
      nas = try lab.value("NAS_MOUNT")
    }

    var common: [String] {
      [
        "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }

    func answers() throws -> String {
      try state.write("answers.yaml", "manual.replace-nas: done\nconfirm.copy-back: yes\n")
    }

    /// `relative path → sha256` of every file under a directory on nexus-server.
    func checksums(_ server: SSHTransport, _ directory: String) async throws -> [String: String] {
      let text = try await server.run(
        .shell(
          "cd \(ShellQuote.quote(directory)) 2>/dev/null && find . -type f -printf '%P\\0' | xargs -0 -r sha256sum")
      ).stdoutText
      var sums: [String: String] = [:]
      for line in text.split(separator: "\n") {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { continue }
        sums[String(parts[1].trimmingCharacters(in: .whitespaces))] = String(parts[0])
      }
      return sums
    }

    /// The failure: the NAS unmounted on the server; a nightly (under `date`) and some WAL go
    /// to the fallback. Returns what the fallback then holds, `path on the NAS → sha256`.
    func failNAS(_ server: SSHTransport, daysAgo: Int) async throws -> [String: String] {
      // A recent date (retention keeps it) that no other test uses; an earlier run's copies go.
      let formatter = DateFormatter()
      formatter.dateFormat = "yyyyMMdd"
      let date = formatter.string(from: Date().addingTimeInterval(-86_400 * Double(daysAgo)))
      _ = try await server.runChecked(
        .shell(
          "rm -f /mnt/nas/nexus-backup/daily/*_\(date).* /mnt/nas/nexus-backup/clarity/*_\(date).* /mnt/nas/nexus-backup/*/*.replaced-*"
        ))
      try await lab.command(["nas-down"])
      let nightly = try await CLIProcess.run(["routine", "nightly", "--input", "date=\(date)"] + common)
      #expect(nightly.status == 0, "\(nightly.output)")
      #expect(nightly.output.contains("NAS NOT USABLE"))
      try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
        for _ in 0..<3 {
          try await postgres.query("SELECT pg_current_xact_id()")
          try await postgres.query("SELECT pg_switch_wal()")
        }
      }
      #expect(
        try await eventually(within: .seconds(60)) {
          (try await checksums(server, "\(fallback)/wal-spool")).count >= 3
        }, "WAL was spooled while the NAS was away")
      var expected: [String: String] = [:]
      for (path, sum) in try await checksums(server, fallback) {
        expected[path.hasPrefix("wal-spool/") ? "wal/" + path.dropFirst("wal-spool/".count) : path] = sum
      }
      return expected
    }

    /// Every file the fallback held is on the NAS with the same sha256, and the fallback is empty.
    func checkMoved(_ server: SSHTransport, _ expected: [String: String]) async throws {
      let onNAS = try await checksums(server, "/mnt/nas/nexus-backup")
      for (path, sum) in expected {
        #expect(onNAS[path] == sum, "\(path) on the NAS: \(onNAS[path] ?? "missing")")
      }
      #expect(try await checksums(server, fallback).isEmpty, "the fallback still holds files")
      #expect(!onNAS.keys.contains { $0.contains(".nexus-dr-copy.") }, "no temporary copy is left")
    }

    /// No file nexus-dr wrote (journals, reports, the NAS) holds a WireGuard private key.
    func checkNoSecrets() async throws {
      // Every secret the lab keeps in secure storage (files at any depth): each line's value.
      let root = "\(lab.directory)/secure-storage"
      var keys: [String] = []
      let enumerator = FileManager.default.enumerator(atPath: root)
      while let name = enumerator?.nextObject() as? String {
        guard let text = try? String(contentsOfFile: "\(root)/\(name)", encoding: .utf8) else { continue }
        for line in text.split(separator: "\n") where !line.hasPrefix("-----") {
          let value =
            line.split(separator: "=", maxSplits: 1).count == 2 && line.contains(" = ")
            ? String(line.split(separator: "=", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces)
            : String(line.split(separator: ":").last ?? "")
          if value.count >= 20 { keys.append(value) }
        }
      }
      #expect(!keys.isEmpty)
      let patterns = try state.write("keys.txt", keys.joined(separator: "\n") + "\n")
      for directory in [state.path + "/runs", nas] {
        let found = try await local.run(.argv(["grep", "-rlF", "-f", patterns, directory], timeout: .seconds(120)))
        #expect(found.exitCode == 1, "a private key in: \(found.stdoutText)")
      }
    }

    @Test(
      "end to end: everything the fallback held is on the NAS, verified, the nightly and weekly ran there, health is OK"
    )
    func endToEnd() async throws {
      try await lab.withSSH("server") { server in
        let expected = try await failNAS(server, daysAgo: 1)
        try await lab.command(["nas-up"])
        let run = try await CLIProcess.run(["nas-failure", "--answers", try answers()] + common)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("daily: "), "the preflight shows what the fallback holds")
        try await checkMoved(server, expected)
        #expect(run.output.contains("OK"), "health is OK at the end")
        let health = try await CLIProcess.run(["health", "--skip-rehearsals"] + common)
        #expect(health.status == 0, "\(health.output)")
        try await checkNoSecrets()
      }
    }

    @Test(
      "kill -9 in the middle of the copy back (a file copied and verified, its fallback copy not yet removed), then resume: nothing lost, nothing twice"
    )
    func killDuringCopyBack() async throws {
      try await lab.withSSH("server") { server in
        let expected = try await failNAS(server, daysAgo: 2)
        #expect(expected.count >= 4)
        try await lab.command(["nas-up"])
        let crashed = try await CLIProcess.run(
          ["nas-failure", "--answers", try answers()] + common, environment: ["NEXUS_DR_CRASH_AT": "copy-back:mid-copy"]
        )
        #expect(crashed.status == 128 + SIGKILL, "\(crashed.output)")
        let left = try await checksums(server, fallback)
        #expect(
          !left.isEmpty && left.count < expected.count,
          "part of the fallback was moved: \(left.count) of \(expected.count) left")
        let resumed = try await CLIProcess.run(["resume", "--answers", try answers()] + common)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(
          resumed.output.contains("already there"), "the file copied before the crash is recognised: \(resumed.output)")
        try await checkMoved(server, expected)
        let replaced = try await server.run(.shell("find /mnt/nas/nexus-backup -name '*.replaced-*' | wc -l"))
          .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(replaced == "0", "nothing was copied twice or set aside")
        try await checkNoSecrets()
      }
    }

    @Test("on a terminal: the manual step and the confirmation answered by keystrokes")
    func interactive() async throws {
      try await lab.withSSH("server") { server in
        let expected = try await failNAS(server, daysAgo: 3)
        let session = "nexusdr-nas-\(UUID().uuidString.prefix(6))"
        let statusFile = state.file("status-interactive")
        let command =
          ShellQuote.commandLine([BuiltTool.path, "nas-failure"] + common) + "; echo $? > "
          + ShellQuote.quote(statusFile) + "; sleep 30"
        _ = try await local.runChecked(
          .argv(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "60", command], timeout: .seconds(20)))
        func screen() async throws -> String {
          try await local.run(.argv(["tmux", "capture-pane", "-p", "-t", session], timeout: .seconds(20))).stdoutText
        }
        let manual = try await eventually(within: .seconds(60)) {
          let shown = try await screen()
          return shown.contains("Repair or replace the NAS") && shown.contains("[done")
        }
        let manualScreen = try await screen()
        #expect(manual, "the manual step is shown:\n\(manualScreen)")
        // The operator mounts the NAS, then says so.
        try await lab.command(["nas-up"])
        _ = try await local.run(.argv(["tmux", "send-keys", "-t", session, "done", "Enter"], timeout: .seconds(20)))
        let confirm = try await eventually(within: .seconds(60)) { try await screen().contains("[yes/no] >") }
        let confirmScreen = try await screen()
        #expect(confirm, "the copy back asks first:\n\(confirmScreen)")
        _ = try await local.run(.argv(["tmux", "send-keys", "-t", session, "yes", "Enter"], timeout: .seconds(20)))
        let finished = await eventually(within: .seconds(300)) {
          !((try? String(contentsOfFile: statusFile, encoding: .utf8)) ?? "").isEmpty
        }
        let shown = try await screen()
        _ = try await local.run(.argv(["tmux", "kill-session", "-t", session], timeout: .seconds(20)))
        #expect(finished, "nas-failure did not finish:\n\(shown)")
        #expect(
          try String(contentsOfFile: statusFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            == "0", "\(shown)")
        try await checkMoved(server, expected)
      }
    }
  }
}
