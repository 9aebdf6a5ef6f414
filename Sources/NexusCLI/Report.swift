import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr report RUN-ID`: the run's report, rebuilt from its journal.
  struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "report",
      abstract: "Print a run's report (md, json or html), rebuilt from its journal; or a rehearsal's, by its id.")

    @OptionGroup var options: CommonOptions
    @Argument(help: "The run's id (see nexus-dr runs), or a rehearsal's (STATE/rehearsals/ID).") var runID: String
    @Option(help: "The report's format.") var format: ReportWriter.Format = .md

    func run() async throws {
      if let rehearsal = RehearsalStore.all(stateDirectory: options.stateDirectory).first(where: { $0.id == runID }) {
        switch format {
        case .json:
          let encoder = JSONEncoder()
          encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
          print(String(decoding: try encoder.encode(rehearsal), as: UTF8.self))
        case .md: print(try RehearsalReport.render(rehearsal, format: .md), terminator: "")
        case .html: print(try RehearsalReport.render(rehearsal, format: .html), terminator: "")
        }
        return
      }
      let directory = RunDirectory(stateDirectory: options.stateDirectory, runID: runID)
      let history: RunHistory
      do { history = try RunHistory.read(directory: directory.path) } catch {
        Console.error("error: \(error); see nexus-dr runs")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      let runbook = try? RunbookLoader.load(file: directory.runbookCopy)
      let report = RunReport.build(history: history, runbook: runbook)
      print(try ReportWriter.render(report, format: format), terminator: "")
    }
  }
}

/// `--format`: the report writer's formats are the option's values.
extension ReportWriter.Format: ExpressibleByArgument {}
