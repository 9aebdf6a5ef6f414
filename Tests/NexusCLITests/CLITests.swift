import Foundation
import NexusTestSupport
import NexusTransport
import Testing

/// The command line without the lab: arguments, inventory errors, version.
@Suite("nexus-dr command line")
struct CLITests {
  let local = LocalTransport()

  func nexusDR(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
    try await local.run(
      HostCommand(.argv([BuiltTool.path] + arguments), environment: environment, timeout: .seconds(60)))
  }

  @Test("--version prints the version")
  func version() async throws {
    let result = try await nexusDR(["--version"])
    #expect(result.exitCode == 0)
    #expect(result.stdoutText.hasPrefix("0."))
  }

  @Test("an unknown option exits 2")
  func badArgument() async throws {
    let result = try await nexusDR(["hosts", "check", "--bogus"])
    #expect(result.exitCode == 2)
    #expect(result.stderrText.contains("--bogus"))
  }

  @Test("a malformed inventory exits 2 with file and line")
  func badInventory() async throws {
    let scratch = try ScratchDirectory()
    let file = try scratch.write(
      "inventory.yaml",
      "environments:\n  lab:\n    hosts:\n      server: { transport: local }\n    nas: { path: /n, fallback: /f, min_free: plenty }\n"
    )
    let check = try await nexusDR(["hosts", "check", "--inventory", file])
    #expect(check.exitCode == 2)
    #expect(check.stderrText.contains("\(file):5:"))
    #expect(check.stderrText.contains("not a size: 'plenty'"))
    let lint = try await nexusDR(["lint", file])
    #expect(lint.exitCode == 2)
    #expect(lint.stderrText.contains("\(file):5:"))
  }

  @Test("the inventory comes from NEXUS_DR_INVENTORY when no option is given")
  func inventoryFromEnvironment() async throws {
    let result = try await nexusDR(["lint"], environment: ["NEXUS_DR_INVENTORY": "/nonexistent/inv.yaml"])
    #expect(result.exitCode == 2)
    #expect(result.stderrText.contains("/nonexistent/inv.yaml"))
  }
}
