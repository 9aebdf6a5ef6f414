import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr routine nightly|weekly`: what the timers run.
  struct Routine: AsyncParsableCommand {
    /// The routine runbooks, by when the timers run them.
    enum Schedule: String, ExpressibleByArgument, CaseIterable {
      case nightly, weekly
    }

    static let configuration = CommandConfiguration(
      commandName: "routine", abstract: "Run a routine backup runbook (what the systemd timers call).")

    @OptionGroup var options: CommonOptions
    @Argument(help: "nightly or weekly.") var routine: Schedule
    @Option(name: .customLong("input"), help: "A runbook input, NAME=VALUE (repeatable), e.g. date=20261127.")
    var inputs: [RunbookInput] = []

    func run() async throws {
      try await RunInvocation(runbook: routine.rawValue, inputs: inputs.values, options: options).run()
    }
  }
}
