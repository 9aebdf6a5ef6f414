import Foundation
import NexusTestSupport
import Testing

/// What the scenario commands and `rehearse` refuse before anything is touched (exit 2).
@Suite("nexus-dr scenarios: checked before they start")
struct ScenarioArgumentTests {
  let scratch: ScratchDirectory
  let inventory: String

  init() throws {
    scratch = try ScratchDirectory()
    inventory = try scratch.write("inventory.yaml", localInventory)
  }

  @Test("gateway-failure needs a readable WireGuard private key in --key-file")
  func keyFile() async throws {
    let none = try await BuiltNexusDR.run(["gateway-failure", "--inventory", inventory])
    #expect(none.exitCode == 2)
    #expect(
      none.stderrText.hasPrefix("Error: Missing expected argument '--key-file <key-file>'\n"), "\(none.stderrText)")
    #expect(none.stderrText.contains("needs --key-file"))
    let missing = try await BuiltNexusDR.run([
      "gateway-failure", "--inventory", inventory, "--key-file", scratch.file("no-such.key"),
    ])
    #expect(missing.exitCode == 2)
    #expect(
      missing.stderrText.hasPrefix(
        "Error: --key-file \(scratch.file("no-such.key")): cannot read it (missing, or not readable by this user)\n"),
      "\(missing.stderrText)")
    let garbage = try scratch.write("not-a-key", "hello\n")
    let bad = try await BuiltNexusDR.run(["gateway-failure", "--inventory", inventory, "--key-file", garbage])
    #expect(bad.exitCode == 2)
    #expect(
      bad.stderrText.hasPrefix("Error: --key-file \(garbage) is not a WireGuard private key"), "\(bad.stderrText)")
    #expect(bad.stdoutText.isEmpty, "no run started")
  }

  @Test("server-failure's --secrets-dir must be a directory on this machine")
  func secretsDirectory() async throws {
    let file = try scratch.write("a-file", "x\n")
    let result = try await BuiltNexusDR.run(["server-failure", "--inventory", inventory, "--secrets-dir", file])
    #expect(result.exitCode == 2)
    #expect(
      result.stderrText.hasPrefix("Error: --secrets-dir \(file) is not a directory on this machine\n"),
      "\(result.stderrText)")
  }

  @Test("rehearse: an unknown scenario, production, an environment with no database to break")
  func rehearse() async throws {
    let unknown = try await BuiltNexusDR.run(["rehearse", "corupt-db", "--inventory", inventory])
    #expect(unknown.exitCode == 2)
    #expect(
      unknown.stderrText.hasPrefix(
        "Error: The value 'corupt-db' is invalid for '<scenario>'. Please provide one of 'corrupt-db', 'server-failure', 'gateway-failure' or 'nas-failure'."
      ), "\(unknown.stderrText)")

    let production = try scratch.write(
      "production.yaml", localInventory.replacingOccurrences(of: "test", with: "production"))
    let refused = try await BuiltNexusDR.run([
      "rehearse", "corrupt-db", "--yes", "--inventory", production, "--state-dir", scratch.path,
    ])
    #expect(refused.exitCode == 2)
    #expect(
      refused.stderrText.hasPrefix(
        "error: rehearse refused in environment 'production', nothing was touched:\n  - 'production' is never rehearsed"
      ), "\(refused.stderrText)")

    let noDatabase = try await BuiltNexusDR.run([
      "rehearse", "corrupt-db", "--yes", "--inventory", inventory, "--state-dir", scratch.path, "--runbooks",
      Repository.root + "/runbooks",
    ])
    #expect(noDatabase.exitCode == 2)
    #expect(
      noDatabase.stderrText == "error: \(inventory): environment 'test' has no database to break\n",
      "\(noDatabase.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: scratch.path + "/rehearsals"), "no rehearsal was started")
  }

  @Test("resume with nothing to resume says so, exit 2")
  func nothingToResume() async throws {
    let latest = try await BuiltNexusDR.run(["resume", "--inventory", inventory, "--state-dir", scratch.path])
    #expect(latest.exitCode == 2)
    #expect(latest.stderrText == "error: no unfinished run in environment test; see nexus-dr runs\n")
    let named = try await BuiltNexusDR.run(["resume", "20261127T020000-nightly-0000", "--state-dir", scratch.path])
    #expect(named.exitCode == 2)
    #expect(
      named.stderrText == "error: no run 20261127T020000-nightly-0000 in \(scratch.path)/runs; see nexus-dr runs\n")
  }
}
