import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr resume [RUN-ID]`: continue an unfinished run.
  struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "resume",
      abstract: "Continue an unfinished run (the environment's latest by default).",
      discussion:
        "A step that was interrupted and is not safe to run twice is asked about: question resume.STEP-ID, answers done, rerun or abort. --yes never answers it."
    )

    @OptionGroup var options: CommonOptions
    @Argument(help: "The run's id (see nexus-dr runs).") var runID: String?

    func run() async throws {
      let runs = RunDirectory.all(stateDirectory: options.stateDirectory)
      let history: RunHistory
      // Read once: here when the environment names the run, after the run is found otherwise.
      var inventory: Inventory?
      if let runID {
        guard let found = runs.first(where: { $0.runID == runID }) else {
          Console.error("error: no run \(runID) in \(options.stateDirectory)/runs; see nexus-dr runs")
          throw ExitCode(RunExit.invalidInput.rawValue)
        }
        history = found
      } else {
        let loaded = try options.loadInventory()
        inventory = loaded
        let environment = try options.environment(in: loaded)
        guard
          let latest = runs.last(where: {
            $0.environment == environment.name && !$0.state(lockHeldByThisRun: false).isFinished
          })
        else {
          Console.error("error: no unfinished run in environment \(environment.name); see nexus-dr runs")
          throw ExitCode(RunExit.invalidInput.rawValue)
        }
        history = latest
      }
      guard let runbookFile = history.started?.runbookFile else {
        Console.error("error: run \(history.runID) does not name its runbook file")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      let runbook = try options.loadRunbook(runbookFile)
      let site = try inventory ?? options.loadInventory()
      let declared = try options.environment(options.environmentName ?? history.environment, in: site)
      // The ones the run last ran with, each replaced by one given now for the same host.
      let overrides = Environment.merge(recorded: history.hostOverrides, given: options.hostOverrides)
      if !history.hostOverrides.isEmpty {
        Console.error(
          "note: run \(history.runID) ran with --host \(history.hostOverrides.joined(separator: " ")); resuming with them\(options.hostOverrides.isEmpty ? "" : ", except where given again")"
        )
      }
      let selected = SelectedEnvironment(
        inventory: site, environment: try options.applyOverrides(overrides, to: declared),
        hostOverrides: options.journaled(overrides, in: declared))
      let engine = RunEngine(
        runbook: runbook, environment: selected.environment, options: try options.runOptions(for: selected))
      let exit = await withInterruptHandling { await engine.resume(history) }
      if exit != .done { throw ExitCode(exit.rawValue) }
    }
  }
}
