import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr runs`: past runs and their state.
  struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "runs", abstract: "Past runs: id, runbook, environment, state, start and duration.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
      let runs = RunDirectory.all(stateDirectory: options.stateDirectory)
      guard !runs.isEmpty else {
        Console.line("No runs in \(options.stateDirectory)/runs.")
        return
      }
      var rows = [["RUN", "RUNBOOK", "ENV", "STATE", "STARTED", "DURATION"]]
      for run in runs {
        let holder = RunLock.holder(stateDirectory: options.stateDirectory, environment: run.environment)
        let state = run.state(lockHeldByThisRun: holder?.runID == run.runID)
        let duration =
          zip(run.startTime, run.lastTime).map {
            DurationText.format(.milliseconds(Int64($1.timeIntervalSince($0) * 1000)))
          } ?? "-"
        rows.append([
          run.runID, run.runbookID, run.environment, state.rawValue,
          run.startTime.map { JournalTime.display($0) } ?? "-", duration,
        ])
      }
      Console.line(Table.render(rows))
    }
  }
}

private func zip(_ a: Date?, _ b: Date?) -> (Date, Date)? {
  guard let a, let b else { return nil }
  return (a, b)
}
