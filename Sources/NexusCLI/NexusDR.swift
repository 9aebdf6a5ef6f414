import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

/// The `nexus-dr` command. Its help lists what an operator needs during an outage first: the
/// scenarios, then the routine, then what looks without changing anything, then the setup.
public struct NexusDR: AsyncParsableCommand {
  public static let version = "0.1.0"

  public static let configuration = CommandConfiguration(
    commandName: "nexus-dr",
    abstract: "Disaster-recovery runbooks for the Nexus clinic system.",
    discussion: """
      Exit status: 0 done; 1 a step failed (resumable); 2 invalid input; 3 a check failed, \
      nothing changed; 4 the operator declined; 5 another run holds the lock; 130 interrupted.
      Documentation: docs/operator-guide.md, docs/inventory.md, docs/lab.md.
      """,
    version: version,
    groupedSubcommands: [
      CommandGroup(
        name: "Scenario",
        subcommands: [CorruptDB.self, ServerFailure.self, GatewayFailure.self, NASFailure.self, Resume.self]),
      CommandGroup(name: "Routine", subcommands: [Routine.self, Run.self, Rehearse.self, WAL.self]),
      CommandGroup(name: "Inspection", subcommands: [Runs.self, Report.self, Health.self, Plan.self, Preflight.self]),
      CommandGroup(name: "Setup", subcommands: [Lint.self, Hosts.self, Timers.self]),
    ]
  )

  public init() {}

  /// Parses the arguments, runs the command and exits with DESIGN.md's statuses:
  /// invalid arguments are 2 (argument-parser's own default is 64).
  public static func runMain() async -> Never {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
      POSIX.exit(0)
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if code == .success {
        if !message.isEmpty { print(message) }
        POSIX.exit(0)
      }
      if !message.isEmpty { Console.error(message) }
      guard code == .validationFailure else { POSIX.exit(code.rawValue) }
      // Invalid arguments are 2, except where 2 means something else to the caller:
      // for restore_command it would read "segment not archived" and end recovery early,
      // for a monitoring system it would read CRITICAL.
      let words = CommandLine.arguments.dropFirst().filter { !$0.hasPrefix("-") }
      if words.starts(with: ["wal", "fetch"]) { POSIX.exit(126) }
      if words.first == "health" { POSIX.exit(3) }
      POSIX.exit(RunExit.invalidInput.rawValue)
    }
  }
}
