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
      discussion: "A step that was interrupted and is not safe to run twice is asked about: question resume.STEP-ID, answers done, rerun or abort. --yes never answers it.")

    @OptionGroup var options: CommonOptions
    @Argument(help: "The run's id (see nexus-dr runs).") var runID: String?

    func run() async throws {
      let runs = RunDirectory.all(stateDirectory: options.stateDirectory)
      let history: RunHistory
      if let runID {
        guard let found = runs.first(where: { $0.runID == runID }) else {
          Console.error("error: no run \(runID) in \(options.stateDirectory)/runs; see nexus-dr runs")
          throw ExitCode(RunExit.invalidInput.rawValue)
        }
        history = found
      } else {
        let (_, environment) = try options.loadEnvironment()
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
      let inventory: Inventory
      do { inventory = try InventoryLoader.load(file: options.inventoryPath) } catch {
        Console.error(error.description)
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      let inventoryEnvironment: Environment
      do { inventoryEnvironment = try inventory.environment(options.environmentName ?? history.environment) } catch {
        Console.error(error.description)
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      // The ones the run last ran with, each replaced by one given now for the same host.
      let overrides = Environment.merge(recorded: history.hostOverrides, given: options.hostOverrides)
      if !history.hostOverrides.isEmpty { Console.error("note: run \(history.runID) ran with --host \(history.hostOverrides.joined(separator: " ")); resuming with them\(options.hostOverrides.isEmpty ? "" : ", except where given again")") }
      let environment = try options.applyOverrides(overrides, to: inventoryEnvironment)
      var runOptions = try options.runOptions()
      runOptions.hostOverrides = overrides.compactMap { try? HostOverride.parse($0, environment: inventoryEnvironment).description }
      let engine = RunEngine(runbook: runbook, environment: environment, options: runOptions)
      let exit = await withInterruptHandling { await engine.resume(history) }
      if exit != .done { throw ExitCode(exit.rawValue) }
    }
  }
}
