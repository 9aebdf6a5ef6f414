import ArgumentParser
import Foundation
import NexusCore

extension NexusDR {
  /// `nexus-dr timers print [--output DIR] | install`: the systemd units that run the routine runbooks.
  struct Timers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "timers",
      abstract: "The systemd units for the routine runbooks (nightly 02:00, weekly Sunday 04:00).",
      subcommands: [Print.self, Install.self])
  }
}

extension NexusDR.Timers {
  struct Print: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "print", abstract: "Print the units, or write them into --output DIR.")

    @OptionGroup var options: CommonOptions
    @Option(help: "Write the unit files into this directory instead of printing them.") var output: String?
    @Option(help: "The nexus-dr binary the units run (default: this one).") var binary: String?

    func run() async throws {
      let units = TimerUnits.make(options, binary: binary)
      for (name, text) in units.files {
        if let output {
          try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
          try text.write(toFile: "\(output)/\(name)", atomically: true, encoding: .utf8)
          Console.line("wrote \(output)/\(name)")
        } else {
          Console.line("# \(name)\n\(text)")
        }
      }
    }
  }

  struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "install", abstract: "Write the units to /etc/systemd/system and enable the timers.")

    @OptionGroup var options: CommonOptions
    @Option(help: "The nexus-dr binary the units run (default: this one).") var binary: String?
    @Option(help: "Where unit files go.") var unitDirectory = "/etc/systemd/system"

    func run() async throws {
      let units = TimerUnits.make(options, binary: binary)
      for (name, text) in units.files {
        try text.write(toFile: "\(unitDirectory)/\(name)", atomically: true, encoding: .utf8)
        Console.line("wrote \(unitDirectory)/\(name)")
      }
      guard FileManager.default.fileExists(atPath: "/run/systemd/system") else {
        Console.line(
          "systemd is not running here; on the server run: systemctl daemon-reload && systemctl enable --now nexus-backup.timer nexus-restore-test.timer"
        )
        return
      }
      for arguments in [["daemon-reload"], ["enable", "--now", "nexus-backup.timer", "nexus-restore-test.timer"]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemctl")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
          Console.error(
            "error: systemctl \(arguments.joined(separator: " ")) failed with status \(process.terminationStatus)")
          throw ExitCode(1)
        }
      }
      Console.line("enabled nexus-backup.timer and nexus-restore-test.timer")
    }
  }
}
