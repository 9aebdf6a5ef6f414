import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr run RUNBOOK`: preflight, then every step, journaled and resumable.
  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run", abstract: "Run a runbook (by id or path): preflight, then its steps, journaled and resumable.")

    @OptionGroup var options: CommonOptions
    @Argument(help: "Runbook id (runbooks/ID.yaml) or path.") var runbook: String
    @Option(name: .customLong("input"), help: "A runbook input, NAME=VALUE (repeatable).") var inputs: [String] = []

    func run() async throws {
      let runbook = try options.loadRunbook(runbook)
      let (_, environment) = try options.loadEnvironment()
      let engine = RunEngine(runbook: runbook, environment: environment, options: try options.runOptions(inputs: inputs))
      let exit = await withInterruptHandling { await engine.start().0 }
      if exit != .done { throw ExitCode(exit.rawValue) }
    }
  }
}

/// A scenario command is `nexus-dr run RUNBOOK` with its options turned into `--input`s
/// (the ones given; the runbook's defaults stand for the rest).
func runScenario(_ runbook: String, inputs: [String: String?], options: CommonOptions) async throws {
  var arguments = [runbook]
  for (name, value) in inputs.sorted(by: { $0.key < $1.key }) {
    if let value { arguments += ["--input", "\(name)=\(value)"] }
  }
  var command = try NexusDR.Run.parse(arguments)
  command.options = options
  try await command.run()
}
