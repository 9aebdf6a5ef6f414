import ArgumentParser
import Dispatch
import Foundation
import NexusCore
import NexusEngine

#if canImport(Glibc)
  import Glibc
#endif

extension CommonOptions {
  /// Runbooks are found by path, or by id in --runbooks, NEXUS_DR_RUNBOOKS,
  /// ./runbooks, /etc/nexus-dr/runbooks and /usr/share/nexus-dr/runbooks.
  func runbookPath(_ nameOrPath: String) throws -> String {
    if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
      return nameOrPath
    }
    var directories = [String]()
    if let runbooks { directories.append(runbooks) }
    if let fromEnvironment = ProcessInfo.processInfo.environment["NEXUS_DR_RUNBOOKS"] { directories.append(fromEnvironment) }
    directories += ["runbooks", "/etc/nexus-dr/runbooks", "/usr/share/nexus-dr/runbooks"]
    for directory in directories {
      let candidate = "\(directory)/\(nameOrPath).yaml"
      if FileManager.default.fileExists(atPath: candidate) { return candidate }
    }
    Console.error("error: no runbook '\(nameOrPath)' in \(directories.joined(separator: ", "))\n  hint: give a path, or the runbooks directory with --runbooks")
    throw ExitCode(RunExit.invalidInput.rawValue)
  }

  func loadRunbook(_ nameOrPath: String) throws -> Runbook {
    let path = try runbookPath(nameOrPath)
    do { return try RunbookLoader.load(file: path) } catch {
      Console.error(error.description)
      throw ExitCode(RunExit.invalidInput.rawValue)
    }
  }

  func runOptions(inputs: [String] = []) throws -> RunOptions {
    var answerValues: [String: String] = [:]
    if let answers {
      do { answerValues = try Prompter.loadAnswers(file: answers) } catch {
        Console.error(error.description)
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
    }
    var inputValues: [String: String] = [:]
    for item in inputs {
      guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
        Console.error("error: --input takes NAME=VALUE, got '\(item)'")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      inputValues[String(item[..<equals])] = String(item[item.index(after: equals)...])
    }
    var options = RunOptions(
      stateDirectory: stateDirectory, answers: answerValues, assumeYes: yes,
      interactive: isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1, color: useColor, inputs: inputValues,
      toolVersion: NexusDR.version)
    if let environment = try? InventoryLoader.load(file: inventoryPath).environment(environmentName) {
      options.hostOverrides = effectiveOverrides(environment)
    }
    return options
  }
}

/// Runs `body` so that Ctrl-C or SIGTERM cancels it (the engine stops the
/// running command, journals `interrupted` and returns 130); a second signal exits at once.
func withInterruptHandling(_ body: @escaping @Sendable () async -> RunExit) async -> RunExit {
  signal(SIGINT, SIG_IGN)
  signal(SIGTERM, SIG_IGN)
  let task = Task { await body() }
  let count = Locked(0)
  let queue = DispatchQueue(label: "nexus-dr.signals")
  let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
    let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
    source.setEventHandler {
      let seen = count.withLock { value in
        value += 1
        return value
      }
      if seen == 1 {
        FileHandle.standardError.write(Data("\nnexus-dr: stopping the running command (again to quit at once)…\n".utf8))
        task.cancel()
      } else {
        Foundation.exit(RunExit.interrupted.rawValue)
      }
    }
    source.resume()
    return source
  }
  let result = await task.value
  sources.forEach { $0.cancel() }
  return result
}
