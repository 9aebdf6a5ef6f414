import Foundation
import NexusTestSupport
import Testing

@Suite("nexus-dr lint")
struct LintTests {
  @Test("the shipped runbooks/ are all ok, one line each, exit 0")
  func shippedRunbooks() async throws {
    let directory = Repository.root + "/runbooks"
    let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
    #expect(names.contains("corrupt-db.yaml") && names.contains("nightly.yaml"))
    let result = try await BuiltNexusDR.run(["lint", directory])
    #expect(result.exitCode == 0, "\(result.stderrText)")
    #expect(result.stderrText.isEmpty)
    let lines = result.stdoutText.split(separator: "\n").map(String.init)
    #expect(lines.count == names.count, "\(result.stdoutText)")
    for (line, name) in zip(lines, names) {
      #expect(line.hasPrefix("\(directory)/\(name): ok (runbook \(name.dropLast(5)): "), "\(line)")
    }
  }

  @Test("an inventory and a runbook, named: what each holds")
  func files() async throws {
    let scratch = try ScratchDirectory()
    let inventory = try scratch.write("inventory.yaml", localInventory)
    let runbook = try scratch.write("plan.yaml", twoStepsRunbook)
    let result = try await BuiltNexusDR.run(["lint", inventory, runbook])
    #expect(result.exitCode == 0, "\(result.stderrText)")
    #expect(
      result.stdoutText == """
        \(inventory): ok (inventory; environments: test)
        \(runbook): ok (runbook two-steps: 1 checks, 3 steps)

        """)
  }

  @Test("a malformed runbook: exit 2, its file, line and column, and what is allowed there")
  func malformed() async throws {
    let scratch = try ScratchDirectory()
    let file = try scratch.write("broken.yaml", malformedRunbook)
    let result = try await BuiltNexusDR.run(["lint", file])
    #expect(result.exitCode == 2)
    #expect(result.stdoutText.isEmpty)
    #expect(
      result.stderrText.hasPrefix(
        "\(file):3:36: error: unknown action 'nosuch' in step 'a'\n  hint: allowed here: shell, manual, confirm,"),
      "\(result.stderrText)")
  }

  @Test("a directory: the good ones ok, the bad one named, other files left alone; exit 2")
  func directory() async throws {
    let scratch = try ScratchDirectory()
    _ = try scratch.write("plan.yaml", twoStepsRunbook)
    let broken = try scratch.write("broken.yaml", malformedRunbook)
    _ = try scratch.write("notes.txt", "not a runbook\n")
    let result = try await BuiltNexusDR.run(["lint", scratch.path])
    #expect(result.exitCode == 2)
    #expect(result.stdoutText == "\(scratch.path)/plan.yaml: ok (runbook two-steps: 1 checks, 3 steps)\n")
    #expect(result.stderrText.hasPrefix("\(broken):3:36: error: unknown action 'nosuch'"), "\(result.stderrText)")
  }

  @Test("without paths: the inventory, then ./runbooks")
  func defaults() async throws {
    let result = try await BuiltNexusDR.run(
      ["lint", "--inventory", "fixtures/lab/inventory.yaml"], in: Repository.root)
    #expect(result.exitCode == 0, "\(result.stderrText)")
    let lines = result.stdoutText.split(separator: "\n")
    #expect(lines.first == "fixtures/lab/inventory.yaml: ok (inventory; environments: lab)")
    #expect(
      lines.dropFirst().allSatisfy { $0.hasPrefix("runbooks/") && $0.contains(": ok (runbook ") },
      "\(result.stdoutText)")
    #expect(lines.count > 1)
  }
}
