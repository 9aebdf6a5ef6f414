import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr rehearse SCENARIO`: a rehearsal in staging or the lab. Breaks the environment for
  /// real, runs the scenario's runbook, verifies, and measures the recovery time (failure
  /// injected → service verified) and the data lost (records the witness device had
  /// acknowledged that are gone) against the inventory's objectives.
  struct Rehearse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rehearse",
      abstract:
        "Rehearse a disaster in staging or the lab: break it for real, recover with the runbook, measure recovery time and data loss.",
      discussion: """
        Refuses production, and any environment whose hosts or database resolve to production's \
        (exit 2, nothing touched). Asks before breaking anything (question confirm.rehearse; --yes).
        The runbook's questions are answered from the inventory's rehearsal section, the repair \
        command's `answer ID VALUE` lines and --answers; with --interactive the operator answers \
        them at the terminal. Results: STATE/rehearsals/ID/ (rehearsal.json, report.md, \
        report.html); `nexus-dr health` reports each scenario's last rehearsal.
        Exit: 0 recovered and verified (objectives reported), 1 not recovered or not verified, \
        2 invalid or refused, 4 declined, 5 another run holds the lock. See docs/rehearsals.md.
        """)

    @OptionGroup var options: CommonOptions
    @Argument(help: "The scenario to rehearse.") var scenario: Scenario
    @Flag(help: "Answer the runbook's questions at the terminal (a rehearsal for the operator, not only the runbook).")
    var interactive = false

    func run() async throws {
      let selected = try options.loadEnvironment()
      let inventory = selected.inventory
      let environment = selected.environment
      let refusals = RehearsalGuard.refusals(environment: environment, inventory: inventory)
      guard refusals.isEmpty else {
        Console.error("error: rehearse refused in environment '\(environment.name)', nothing was touched:")
        for refusal in refusals { Console.error("  - \(refusal)") }
        Console.error(
          "  hint: a rehearsal breaks what it rehearses; point it at a staging environment of its own (\(inventory.source))"
        )
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      let runbook = try options.loadRunbook(scenario.runbook)
      let nightly = scenario == .nasFailure ? try options.loadRunbook("nightly") : nil
      let rehearsal: Rehearsal
      do {
        rehearsal = try Rehearsal(
          scenario: scenario.rawValue, environment: environment, inventorySource: inventory.source,
          stateDirectory: options.stateDirectory,
          nightly: nightly)
      } catch {
        Console.error("error: \(error)")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      if let holder = RunLock.holder(stateDirectory: options.stateDirectory, environment: environment.name) {
        Console.error(
          "error: run \(holder.runID) (pid \(holder.pid)) holds the lock for \(environment.name); nothing was broken")
        throw ExitCode(RunExit.locked.rawValue)
      }

      let base = try options.runOptions(for: selected)
      let console = ConsoleOutput(color: options.useColor)
      guard await rehearsal.isReady(runbook: runbook, options: base, console: console) else {
        Console.error(
          "error: \(environment.name) is not ready to rehearse \(scenario.rawValue) (above); nothing was broken")
        throw ExitCode(RunExit.checkFailed.rawValue)
      }
      console.line("")
      console.heading("Rehearsal of \(scenario.rawValue) in \(environment.name)")
      for line in rehearsal.plan { console.line("  " + line) }
      let confirmed = await rehearsal.confirm(options: base, console: console)
      if confirmed != .done { throw ExitCode(confirmed.rawValue) }

      let exit = await withInterruptHandling {
        await rehearsal.perform(
          runbook: runbook, base: base, interactive: interactive && base.interactive, console: console)
      }
      if exit != .done { throw ExitCode(exit.rawValue) }
    }
  }
}
