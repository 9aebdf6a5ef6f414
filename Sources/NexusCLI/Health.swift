import ArgumentParser
import Foundation
import NexusCore
import NexusEngine
import NexusTransport

extension NexusDR {
  /// `nexus-dr health [--json | --prometheus]`, with monitoring-plugin exit statuses.
  struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "health",
      abstract: "Backup health for nexus-health: dumps, base backups, WAL archiving, NAS, fallback, restore tests.",
      discussion:
        "Exit status as a monitoring plugin: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. The JSON is documented in docs/health.md."
    )

    @OptionGroup var options: CommonOptions
    @Flag var format: HealthFormat?
    @Flag(help: "Leave out the rehearsal items (the backups alone: what nas-failure checks at its end).")
    var skipRehearsals = false

    func run() async throws {
      // The monitoring convention: a configuration that cannot be read is UNKNOWN (3).
      let inventory = try options.loadInventory(failureStatus: 3)
      let environment = try options.environment(in: inventory, failureStatus: 3)
      let transports = HostTransports(environment: environment)
      var check = HealthCheck(environment: environment, transports: transports, stateDirectory: options.stateDirectory)
      check.includeRehearsals = !skipRehearsals
      let report = await check.run()
      await transports.closeAll()
      switch format {
      case .json: print(try report.json())
      case .prometheus: print(report.prometheus, terminator: "")
      case nil: print(report.text)
      }
      if report.status != .ok { throw ExitCode(report.status.exitCode) }
    }
  }
}

/// What `health` prints for a machine instead of the table for a person (one of them).
enum HealthFormat: String, EnumerableFlag {
  case json, prometheus

  static func help(for value: HealthFormat) -> ArgumentHelp? {
    switch value {
    case .json: "JSON for nexus-health."
    case .prometheus: "node_exporter textfile format."
    }
  }
}
