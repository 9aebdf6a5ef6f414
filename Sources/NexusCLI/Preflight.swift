import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr preflight RUNBOOK`: the checks alone; changes nothing.
  struct Preflight: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "preflight",
      abstract: "Run a runbook's preflight checks alone; changes nothing. Exit 3 if any fails.")

    @OptionGroup var options: CommonOptions
    @Argument(help: "Runbook id or path.") var runbook: String
    @Option(name: .customLong("input"), help: "A runbook input, NAME=VALUE (repeatable).") var inputs: [RunbookInput] =
      []

    func run() async throws {
      try await RunInvocation(runbook: runbook, inputs: inputs.values, options: options).preflight()
    }
  }
}
