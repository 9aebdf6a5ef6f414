import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr preflight RUNBOOK`: the checks alone; changes nothing.
  struct Preflight: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "preflight", abstract: "Run a runbook's preflight checks alone; changes nothing. Exit 3 if any fails.")

    @OptionGroup var options: CommonOptions
    @Argument(help: "Runbook id or path.") var runbook: String
    @Option(name: .customLong("input"), help: "A runbook input, NAME=VALUE (repeatable).") var inputs: [String] = []

    func run() async throws {
      let runbook = try options.loadRunbook(runbook)
      let (_, environment) = try options.loadEnvironment()
      let engine = RunEngine(runbook: runbook, environment: environment, options: try options.runOptions(inputs: inputs))
      let exit = await engine.preflightOnly()
      if exit != .done { throw ExitCode(exit.rawValue) }
    }
  }
}
