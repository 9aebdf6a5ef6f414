import Foundation
import NexusCore

/// The built `nexus-dr`, started as a real process so tests can signal it,
/// kill it, and read what it printed (to a file, so a full pipe never blocks it).
public final class CLIProcess: @unchecked Sendable {
  public let process = Process()
  private let outputPath: String

  public init(_ arguments: [String], environment: [String: String] = [:], workingDirectory: String? = nil) throws {
    outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-dr-out-\(UUID().uuidString)").path
    FileManager.default.createFile(atPath: outputPath, contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    process.executableURL = URL(fileURLWithPath: BuiltTool.path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try output.close()
  }

  public var pid: Int32 { process.processIdentifier }

  /// Waits for the process to end (on a thread of its own) and returns its status;
  /// a process ended by a signal reports 128 + the signal's number, as a shell does.
  public func wait() async -> Int32 {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async {
        self.process.waitUntilExit()
        let status =
          self.process.terminationReason == .uncaughtSignal
          ? 128 + self.process.terminationStatus : self.process.terminationStatus
        continuation.resume(returning: status)
      }
    }
  }

  public func signal(_ number: Int32) { try? POSIX.kill(process.processIdentifier, number) }

  public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

  deinit {
    if process.isRunning { try? POSIX.kill(process.processIdentifier, SIGKILL) }
    try? FileManager.default.removeItem(atPath: outputPath)
  }

  /// Runs to completion and returns the status and what it printed.
  public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (
    status: Int32, output: String
  ) {
    let process = try CLIProcess(arguments, environment: environment)
    let status = await process.wait()
    return (status, process.output)
  }
}

/// Repeats `condition` until it holds, checking every 20 ms, for at most `limit`;
/// false when it never held. For waiting on another process's progress, never as a fixed sleep.
public func eventually(within limit: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows
  -> Bool
{
  let clock = ContinuousClock()
  let deadline = clock.now + limit
  while clock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return try await condition()
}
