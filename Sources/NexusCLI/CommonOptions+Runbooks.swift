import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension CommonOptions {
  /// Runbooks are found by path, or by id in --runbooks, NEXUS_DR_RUNBOOKS,
  /// ./runbooks, /etc/nexus-dr/runbooks and /usr/share/nexus-dr/runbooks.
  func runbookPath(_ nameOrPath: String) throws -> String {
    if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
      return nameOrPath
    }
    var directories: [String] = []
    if let runbooks { directories.append(runbooks) }
    if let fromEnvironment = ProcessInfo.processInfo.environment["NEXUS_DR_RUNBOOKS"] {
      directories.append(fromEnvironment)
    }
    directories += ["runbooks", "/etc/nexus-dr/runbooks", "/usr/share/nexus-dr/runbooks"]
    for directory in directories {
      let candidate = "\(directory)/\(nameOrPath).yaml"
      if FileManager.default.fileExists(atPath: candidate) { return candidate }
    }
    Console.error(
      "error: no runbook '\(nameOrPath)' in \(directories.joined(separator: ", "))\n  hint: give a path, or the runbooks directory with --runbooks"
    )
    throw ExitCode(RunExit.invalidInput.rawValue)
  }

  func loadRunbook(_ nameOrPath: String) throws -> Runbook {
    let path = try runbookPath(nameOrPath)
    do { return try RunbookLoader.load(file: path) } catch {
      Console.error(error.description)
      throw ExitCode(RunExit.invalidInput.rawValue)
    }
  }
}
