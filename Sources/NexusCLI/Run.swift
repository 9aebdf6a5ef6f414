import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr run RUNBOOK`: preflight, then every step, journaled and resumable.
  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run", abstract: "Run a runbook (by id or path): preflight, then its steps, journaled and resumable."
    )

    @OptionGroup var options: CommonOptions
    @Argument(help: "Runbook id (runbooks/ID.yaml) or path.") var runbook: String
    @Option(name: .customLong("input"), help: "A runbook input, NAME=VALUE (repeatable).") var inputs: [RunbookInput] =
      []

    func run() async throws {
      try await RunInvocation(runbook: runbook, inputs: inputs.values, options: options).run()
    }
  }
}
