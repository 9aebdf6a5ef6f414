import Foundation
import NexusTestSupport
import Testing

/// DESIGN.md's exit statuses, each from a real run of a runbook on this machine (local
/// transport: `true`, `false`, `sleep`), in a state directory of the test's own.
@Suite("nexus-dr exit statuses")
struct ExitStatusTests {
  let scratch: ScratchDirectory
  let common: [String]

  init() throws {
    scratch = try ScratchDirectory()
    common = [
      "--inventory", try scratch.write("inventory.yaml", localInventory), "--env", "test", "--state-dir",
      scratch.file("state"),
    ]
  }

  func runbook(_ name: String, _ text: String) throws -> String {
    try scratch.write("\(name).yaml", "runbook: \(name)\n" + text)
  }

  @Test("0 done, 1 a step failed (the run is resumable)")
  func doneAndFailed() async throws {
    let done = try await BuiltNexusDR.run(
      ["run", try runbook("ok", "steps:\n  - { id: one, host: server, action: shell, with: { argv: [\"true\"] } }\n")]
        + common)
    #expect(done.exitCode == 0, "\(done.stdoutText)\(done.stderrText)")
    #expect(done.stdoutText.contains(" completed.\n"))
    let failed = try await BuiltNexusDR.run(
      [
        "run",
        try runbook("fails", "steps:\n  - { id: one, host: server, action: shell, with: { argv: [\"false\"] } }\n"),
      ] + common)
    #expect(failed.exitCode == 1, "\(failed.stdoutText)\(failed.stderrText)")
    #expect(failed.stdoutText.contains("nexus-dr resume "), "\(failed.stdoutText)")
  }

  @Test("3 a preflight check failed and nothing changed (run and preflight)")
  func checkFailed() async throws {
    let touched = scratch.file("touched")
    let file = try runbook(
      "unready",
      """
      preflight:
        - { id: never, title: a check that fails, host: server, argv: ["false"] }
      steps:
        - { id: one, host: server, action: shell, with: { argv: [touch, \(touched)] } }

      """)
    let run = try await BuiltNexusDR.run(["run", file] + common)
    #expect(run.exitCode == 3, "\(run.stdoutText)\(run.stderrText)")
    #expect(
      run.stdoutText.contains(
        "  [FAIL] a check that fails: server: false → exit status 1\nPreflight failed: nothing was changed.\n"),
      "\(run.stdoutText)")
    #expect(!FileManager.default.fileExists(atPath: touched))
    let preflight = try await BuiltNexusDR.run(["preflight", file] + common)
    #expect(preflight.exitCode == 3, "\(preflight.stdoutText)\(preflight.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: touched))
  }

  @Test("4 the operator declined: an answer of no, or a question with nobody to answer it; --yes goes on")
  func declined() async throws {
    let file = try runbook("asks", "steps:\n  - { id: go, action: confirm, with: { text: \"Go on?\" } }\n")
    let no = try scratch.write("no.yaml", "confirm.go: no\n")
    let answeredNo = try await BuiltNexusDR.run(["run", file, "--answers", no] + common)
    #expect(answeredNo.exitCode == 4, "\(answeredNo.stdoutText)\(answeredNo.stderrText)")
    #expect(answeredNo.stderrText.contains("error: the operator declined 'go'"), "\(answeredNo.stderrText)")
    let nobody = try await BuiltNexusDR.run(["run", file] + common)
    #expect(nobody.exitCode == 4, "no terminal, no answer: it never guesses")
    let yes = try await BuiltNexusDR.run(["run", file, "--yes"] + common)
    #expect(yes.exitCode == 0, "\(yes.stdoutText)\(yes.stderrText)")
  }

  @Test("5 another run holds the lock; 130 interrupted, the running command stopped")
  func lockedAndInterrupted() async throws {
    let waits = try runbook(
      "waits", "steps:\n  - { id: wait, host: server, action: shell, with: { argv: [sleep, \"30\"] } }\n")
    let holder = try CLIProcess(["run", waits] + common)
    #expect(await eventually(within: .seconds(20)) { holder.output.contains("▶ [1/1] wait") }, "\(holder.output)")
    let second = try await BuiltNexusDR.run(
      ["run", try runbook("ok", "steps:\n  - { id: one, host: server, action: shell, with: { argv: [\"true\"] } }\n")]
        + common)
    #expect(second.exitCode == 5, "\(second.stdoutText)\(second.stderrText)")
    #expect(second.stderrText.contains("error: environment 'test' is busy: run "), "\(second.stderrText)")
    holder.signal(SIGINT)
    let clock = ContinuousClock()
    let start = clock.now
    #expect(await holder.wait() == 130, "\(holder.output)")
    #expect(clock.now - start < .seconds(20), "sleep 30 was stopped, not waited for")
    #expect(holder.output.contains("Interrupted during wait; the running command was stopped."), "\(holder.output)")
  }

  @Test("2 invalid input: an unknown subcommand or option, a missing argument, a malformed inventory")
  func invalidInput() async throws {
    for arguments in [
      ["nosuch"], ["hosts", "check", "--bogus"], ["report"], ["routine", "monthly"], ["run"] + common,
    ] {
      let result = try await BuiltNexusDR.run(arguments)
      #expect(result.exitCode == 2, "\(arguments): \(result.stderrText)")
    }
    let unknown = try await BuiltNexusDR.run(["report", "nosuch", "--state-dir", scratch.path])
    #expect(unknown.exitCode == 2)
    #expect(
      unknown.stderrText.hasPrefix("error: no journal at \(scratch.path)/runs/nosuch/journal.jsonl"),
      "\(unknown.stderrText)")
    let format = try await BuiltNexusDR.run(["report", "nosuch", "--format", "pdf"])
    #expect(format.exitCode == 2)
    #expect(
      format.stderrText.hasPrefix(
        "Error: The value 'pdf' is invalid for '--format <format>'. Please provide one of 'md', 'json' or 'html'."))
    let inventory = try await BuiltNexusDR.run([
      "plan", try runbook("ok2", "steps:\n  - { id: one, host: server, action: shell, with: { argv: [\"true\"] } }\n"),
      "--inventory", "/nonexistent/inventory.yaml",
    ])
    #expect(inventory.exitCode == 2)
    #expect(
      inventory.stderrText
        == "/nonexistent/inventory.yaml: error: cannot read the file\n  hint: check that it exists and is readable by this user\n"
    )
  }

  @Test("health speaks the monitoring convention: invalid arguments and an unreadable inventory are UNKNOWN (3)")
  func health() async throws {
    let bogus = try await BuiltNexusDR.run(["health", "--bogus"])
    #expect(bogus.exitCode == 3)
    let unreadable = try await BuiltNexusDR.run(["health", "--inventory", "/nonexistent/inventory.yaml"])
    #expect(unreadable.exitCode == 3)
    #expect(unreadable.stderrText.hasPrefix("/nonexistent/inventory.yaml: error: cannot read the file"))
    let both = try await BuiltNexusDR.run([
      "health", "--json", "--prometheus", "--inventory", "/nonexistent/inventory.yaml",
    ])
    #expect(both.exitCode == 3, "one format at a time")
  }

  @Test(
    "wal fetch never says 2 (restore_command would end recovery early): invalid arguments and no configuration are 126")
  func walFetch() async throws {
    let bogus = try await BuiltNexusDR.run(["wal", "fetch", "--bogus"])
    #expect(bogus.exitCode == 126)
    let unreadable = try await BuiltNexusDR.run([
      "wal", "fetch", "000000010000000000000001", "pg_wal/RECOVERYXLOG", "--inventory", "/nonexistent/inventory.yaml",
    ])
    #expect(unreadable.exitCode == 126)
    #expect(
      unreadable.stderrText.hasSuffix("nexus-dr wal fetch: cannot read the configuration; stopping recovery\n"),
      "\(unreadable.stderrText)")
    let push = try await BuiltNexusDR.run([
      "wal", "push", "pg_wal/000000010000000000000001", "000000010000000000000001", "--inventory",
      "/nonexistent/inventory.yaml",
    ])
    #expect(push.exitCode == 2)
  }
}
