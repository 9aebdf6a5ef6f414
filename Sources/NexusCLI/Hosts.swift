import ArgumentParser
import Foundation
import NexusCore
import NexusEngine
import NexusTransport

extension NexusDR {
  struct Hosts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "hosts",
      abstract: "Reach the environment's hosts.",
      subcommands: [Check.self])
  }
}

extension NexusDR.Hosts {
  /// `nexus-dr hosts check`: every host reached, its key verified, its name and
  /// kernel shown with the round-trip time; the database's version and archiving.
  struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Connect to every host and the database; verify host keys; show versions and round-trip times.",
      discussion: "Exit status 0 when every required host and the database answer, 3 otherwise.")

    @OptionGroup var options: CommonOptions

    @Option(help: "Commands timed per host for the round-trip time.")
    var samples = 5

    func run() async throws {
      let selected = try options.loadEnvironment()
      let environment = selected.environment
      Console.line("Environment \(environment.name) (inventory \(selected.inventory.source))")
      let transports = HostTransports(environment: environment)
      var failed = false
      var rows: [[String]] = [["HOST", "ADDRESS", "HOSTNAME", "KERNEL", "CONNECT", "RTT (median)", "STATUS"]]
      var problems: [String] = []
      for spec in environment.hosts {
        let probe = await HostProbe.run(spec, transports: transports, samples: max(1, samples))
        rows.append(probe.row)
        if let problem = probe.problem {
          problems.append(problem)
          if !spec.optional { failed = true }
        }
        if let warning = probe.warning { problems.append(warning) }
      }
      Console.line(Table.render(rows))
      if let database = environment.database {
        let report = await DatabaseProbe.run(database)
        Console.line("")
        Console.line(report.text)
        if report.failed { failed = true }
      } else {
        Console.line("\nNo database in environment \(environment.name).")
      }
      if !problems.isEmpty {
        Console.line("")
        for problem in problems { Console.error(problem) }
      }
      await transports.closeAll()
      if failed { throw ExitCode(RunExit.checkFailed.rawValue) }
    }
  }
}
