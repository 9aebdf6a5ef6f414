import Foundation
import NexusTestSupport
import Testing

@Suite("nexus-dr plan (without --probe: no host is contacted)")
struct PlanTests {
  @Test("the inputs, the checks and every step's exact command, with what asks first")
  func plan() async throws {
    let scratch = try ScratchDirectory()
    let inventory = try scratch.write("inventory.yaml", localInventory)
    let runbook = try scratch.write("plan.yaml", twoStepsRunbook)
    let result = try await BuiltNexusDR.run(["plan", runbook, "--inventory", inventory, "--input", "word=hello"])
    #expect(result.exitCode == 0, "\(result.stderrText)")
    #expect(result.stderrText.isEmpty)
    #expect(
      result.stdoutText == """
        Plan: Two steps and a question (two-steps) — environment test
        Runbook: \(runbook) (sha256 a92b29e4d863)

        Inputs:
          word = hello
          times = 2

        Preflight:
          - true-runs: run on server: true

        Steps:
          1. Print the word [one] — server — shell
             run on server: echo hello
             (not safe to re-run)
          2. Ask [go] — operator — confirm
             ask for confirmation (question confirm.go): Go on?
             (safe to re-run)
          3. Print again [two] — server — shell
             run on server: echo 2
             (DESTRUCTIVE: asks first (question confirm.two); not safe to re-run; timeout 1 min 00 s)

        """)
  }

  @Test("an input not given yet is shown as the option that gives it")
  func missingInput() async throws {
    let scratch = try ScratchDirectory()
    let inventory = try scratch.write("inventory.yaml", localInventory)
    let runbook = try scratch.write("plan.yaml", twoStepsRunbook)
    let result = try await BuiltNexusDR.run(["plan", runbook, "--inventory", inventory])
    #expect(result.exitCode == 0, "\(result.stderrText)")
    #expect(result.stdoutText.contains("  word = (required: --input word=…)\n"))
    #expect(result.stdoutText.contains("     run on server: echo {{ inputs.word }}\n"))
  }

  @Test("a shipped runbook found by id, against the lab's inventory")
  func shippedRunbook() async throws {
    let result = try await BuiltNexusDR.run([
      "plan", "nightly", "--runbooks", Repository.root + "/runbooks", "--inventory",
      Repository.root + "/fixtures/lab/inventory.yaml",
    ])
    #expect(result.exitCode == 0, "\(result.stderrText)")
    #expect(result.stdoutText.hasPrefix("Plan: "))
    #expect(result.stdoutText.contains("(nightly) — environment lab\n"), "\(result.stdoutText)")
    #expect(result.stdoutText.contains("\nSteps:\n  1. "))
  }

  @Test("what plan refuses, exit 2: an unknown runbook, environment or --host, a malformed --input")
  func refusals() async throws {
    let scratch = try ScratchDirectory()
    let inventory = try scratch.write("inventory.yaml", localInventory)
    let runbook = try scratch.write("plan.yaml", twoStepsRunbook)

    let unknown = try await BuiltNexusDR.run(["plan", "nosuch", "--inventory", inventory, "--runbooks", scratch.path])
    #expect(unknown.exitCode == 2)
    #expect(
      unknown.stderrText.hasPrefix("error: no runbook 'nosuch' in \(scratch.path), runbooks, "), "\(unknown.stderrText)"
    )

    let environment = try await BuiltNexusDR.run(["plan", runbook, "--inventory", inventory, "--env", "prod"])
    #expect(environment.exitCode == 2)
    #expect(
      environment.stderrText
        == "\(inventory): error: no environment 'prod' in the inventory\n  hint: environments here: test\n")

    let host = try await BuiltNexusDR.run(["plan", runbook, "--inventory", inventory, "--host", "nas=192.0.2.1"])
    #expect(host.exitCode == 2)
    #expect(host.stderrText == "--host: error: environment test has no host 'nas'\n  hint: its hosts: server\n")

    let input = try await BuiltNexusDR.run(["plan", runbook, "--inventory", inventory, "--input", "word"])
    #expect(input.exitCode == 2)
    #expect(
      input.stderrText.hasPrefix("Error: The value 'word' is invalid for '--input <input>'"), "\(input.stderrText)")
    #expect(input.stdoutText.isEmpty)
  }
}
