import ArgumentParser
import Foundation
import NexusEngine
import NexusCore
import NexusTransport

struct HostsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hosts",
    abstract: "Reach the environment's hosts.",
    subcommands: [HostsCheckCommand.self])
}

/// `nexus-dr hosts check`: every host reached, its key verified, its name and
/// kernel shown with the round-trip time; the database's version and archiving.
struct HostsCheckCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Connect to every host and the database; verify host keys; show versions and round-trip times.",
    discussion: "Exit status 0 when every required host and the database answer, 3 otherwise.")

  @OptionGroup var options: CommonOptions

  @Option(help: "Commands timed per host for the round-trip time.")
  var samples = 5

  func run() async throws {
    let (inventory, environment) = try options.loadEnvironment()
    Console.line("Environment \(environment.name) (inventory \(inventory.source))")
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
      problems.forEach { Console.error($0) }
    }
    await transports.closeAll()
    if failed { throw ExitCode(RunExit.checkFailed.rawValue) }
  }
}

/// One host's answers to `hosts check`.
struct HostProbe {
  var row: [String]
  var problem: String?
  var warning: String?

  /// A median round trip above this suggests a slow login shell (e.g. `pyenv init` in ~/.bashrc).
  static let slowShell: Duration = .milliseconds(50)

  static func run(_ spec: HostSpec, transports: HostTransports, samples: Int) async -> HostProbe {
    let address: String
    switch spec.transport {
    case .local: address = "local"
    case .ssh(let host, let port, let user): address = "\(user)@\(host):\(port)"
    }
    let name = spec.optional ? "\(spec.name) (optional)" : spec.name
    do {
      let transport = try transports.transport(for: spec.name)
      let clock = ContinuousClock()
      let start = clock.now
      if let ssh = transport as? SSHTransport { try await ssh.connect() }
      let connectTime = clock.now - start
      let hostname = try await transport.runChecked(.argv(["hostname"], timeout: .seconds(20))).stdoutText
      let kernel = try await transport.runChecked(.argv(["uname", "-r"], timeout: .seconds(20))).stdoutText
      var times: [Duration] = []
      for _ in 0..<samples {
        let begin = clock.now
        _ = try await transport.runChecked(.argv(["true"], timeout: .seconds(20)))
        times.append(clock.now - begin)
      }
      let median = times.sorted()[times.count / 2]
      var warning: String?
      if median > slowShell {
        warning = "\(spec.name): commands take \(format(median)) each; the login shell may be slow to start (check ~/.bashrc on the host for pyenv, nvm or similar)"
      }
      return HostProbe(
        row: [name, address, hostname.trimmed, kernel.trimmed, format(connectTime), format(median), "ok"],
        warning: warning)
    } catch {
      return HostProbe(
        row: [name, address, "-", "-", "-", "-", spec.optional ? "absent (optional)" : "FAILED"],
        problem: "\(error)")
    }
  }

  static func format(_ duration: Duration) -> String {
    let ms = duration.secondsValue * 1000
    return ms < 10 ? String(format: "%.1f ms", ms) : String(format: "%.0f ms", ms)
  }
}

/// Columns padded to their widest cell.
enum Table {
  static func render(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
      }.joined()
    }.joined(separator: "\n")
  }
}

extension String {
  var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
