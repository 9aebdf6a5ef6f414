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
      discussion: "Exit status as a monitoring plugin: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. The JSON is documented in docs/health.md.")

    @OptionGroup var options: CommonOptions
    @Flag(help: "JSON for nexus-health.") var json = false
    @Flag(help: "node_exporter textfile format.") var prometheus = false
    @Flag(help: "Leave out the rehearsal items (the backups alone: what nas-failure checks at its end).") var skipRehearsals = false

    func run() async throws {
      // The monitoring convention: a configuration that cannot be read is UNKNOWN (3).
      let inventory = try options.loadInventory(failureStatus: 3)
      let environment = try options.environment(in: inventory, failureStatus: 3)
      let transports = HostTransports(environment: environment)
      var check = HealthCheck(environment: environment, transports: transports, stateDirectory: options.stateDirectory)
      check.includeRehearsals = !skipRehearsals
      let report = await check.run()
      await transports.closeAll()
      if json {
        print(try report.json())
      } else if prometheus {
        print(report.prometheus, terminator: "")
      } else {
        print(report.text)
      }
      if report.status != .ok { throw ExitCode(report.status.exitCode) }
    }
  }
}
