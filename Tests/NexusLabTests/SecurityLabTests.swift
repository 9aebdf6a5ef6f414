import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// After real runs that used the database password and the WireGuard private keys: nothing
  /// nexus-dr wrote holds either, its state is private, and PostgreSQL's own statement log
  /// (log_statement = 'mod' in the lab) shows no DELETE, TRUNCATE or DROP against `staging`.
  @Suite("security (lab)", .serialized)
  struct SecurityLabTests {
    let state: ScratchDirectory
    let repository: String
    let local = LocalTransport()

    init() throws {
      state = try ScratchDirectory("nexus-dr-security")
      repository = Lab.repository
    }

    func common(_ lab: Lab) -> [String] {
      [
        "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }

    @Test(
      "routine + a corrupt-db and a gateway-failure rehearsal: no secret in any file written, state 0600/0700, nothing deleted from staging"
    )
    func afterRealRuns() async throws {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      let log = "\(lab.directory)/hosts/nexus-server/postgresql.log"
      let logStart = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
      var output = ""
      for arguments in [
        ["run", "config-snapshot", "--yes"], ["routine", "nightly"], ["routine", "weekly"],
        ["rehearse", "corrupt-db", "--yes"], ["rehearse", "gateway-failure", "--yes"], ["health", "--json"],
      ] {
        let run = try await CLIProcess.run(arguments + common(lab))
        #expect(run.status == 0 || arguments[0] == "health", "\(arguments): \(run.output)")
        output += run.output
      }

      // PostgreSQL's statement log since this test began: the rehearsal's DROP is there (the log
      // works), and nothing removed anything from the staging schema.
      let handle = try #require(FileHandle(forReadingAtPath: log))
      try handle.seek(toOffset: UInt64(logStart))
      let statements = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
      try handle.close()
      #expect(
        statements.contains("DROP TABLE \"public\".\"appointments\" CASCADE"),
        "the statement log records the rehearsal's drop")
      // pg_restore's own `TRUNCATE TABLE ONLY` of a table it created moments before in the same
      // restore (the weekly's scratch nexus_restore_test) is how it loads data, not a deletion.
      let staging = statements.split(separator: "\n").filter { line in
        line.range(of: #"\b(DELETE|TRUNCATE|DROP)\b[^;]*\bstaging\b"#, options: [.regularExpression, .caseInsensitive])
          != nil
      }
      #expect(
        staging.allSatisfy { $0.contains("@nexus_restore_test app=pg_restore ") },
        "only pg_restore loading the restore test's copy: \(staging.prefix(5))")
      let offending = staging.filter { !$0.contains("@nexus_restore_test app=pg_restore ") }
      #expect(offending.isEmpty, "statements against staging: \(offending.prefix(5))")

      // Secrets: the database passwords, the gate's WireGuard private key, the API key.
      var secrets = try String(contentsOfFile: "\(lab.directory)/pgpass", encoding: .utf8).split(separator: "\n")
        .compactMap { $0.split(separator: ":").last.map(String.init) }
      secrets.append(
        try String(contentsOfFile: try lab.value("GATE_WG_KEY"), encoding: .utf8).trimmingCharacters(
          in: .whitespacesAndNewlines))
      secrets.append(
        try String(
          contentsOfFile: "\(lab.directory)/secure-storage/nexus-server/etc/nexus/secrets/api.key", encoding: .utf8
        ).trimmingCharacters(in: .whitespacesAndNewlines))
      secrets = secrets.filter { $0.count >= 16 }
      #expect(secrets.count >= 3)
      for secret in secrets { #expect(!output.contains(secret), "a secret in nexus-dr's output") }
      let patterns = try state.write("patterns.txt", secrets.joined(separator: "\n") + "\n")
      for directory in [state.path + "/runs", state.path + "/rehearsals", try lab.value("NAS_MOUNT")] {
        let found = try await local.run(.argv(["grep", "-rlF", "-f", patterns, directory], timeout: .seconds(300)))
        #expect(found.exitCode == 1, "a secret in: \(found.stdoutText)")
      }

      // State: every directory 0700, every file 0600 (the lock file included).
      let listing = try await local.runChecked(
        .argv(["find", state.path + "/runs", state.path + "/rehearsals", "-printf", "%y %m %p\\n"])
      ).stdoutText
      let wrong = listing.split(separator: "\n").filter { line in
        (line.hasPrefix("d ") && !line.hasPrefix("d 700 ")) || (line.hasPrefix("f ") && !line.hasPrefix("f 600 "))
      }
      #expect(listing.split(separator: "\n").count > 20)
      #expect(wrong.isEmpty, "not private: \(wrong.prefix(10))")
    }
  }
}
