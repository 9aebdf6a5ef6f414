import Foundation
import NexusCore
import Subprocess
import Synchronization
import SystemPackage

/// Runs commands on the machine nexus-dr runs on, through swift-subprocess.
///
/// Each command gets its own process group, so a timeout or an interrupt ends
/// the command and everything it started, not just its first process.
public struct LocalTransport: Transport {
  public let host: String
  /// How long a command has after SIGTERM before SIGKILL.
  public var gracePeriod: Duration

  public init(host: String = "local", gracePeriod: Duration = .seconds(3)) {
    self.host = host
    self.gracePeriod = gracePeriod
  }

  public func run(_ command: HostCommand, output: OutputHandler?) async throws(TransportError) -> CommandResult {
    for name in command.environment.keys where !HostCommand.isValidVariableName(name) {
      throw TransportError(.localFailure, host: host, detail: "invalid environment variable name '\(name)'")
    }
    let (executable, arguments): (Executable, [String])
    switch command.form {
    case .argv(let argv):
      guard let first = argv.first else {
        throw TransportError(.localFailure, host: host, detail: "empty argument array")
      }
      executable = first.contains("/") ? .path(FilePath(first)) : .name(first)
      arguments = Array(argv.dropFirst())
    case .shell(let line):
      executable = .path("/bin/sh")
      arguments = ["-c", line]
    }
    var options = PlatformOptions()
    options.processGroupID = 0
    let environment = Environment.inherit.updating(
      Dictionary(
        uniqueKeysWithValues: command.environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) }))
    let state = Locked(LocalRunState(limit: command.captureLimit))
    let clock = ContinuousClock()
    let start = clock.now
    let grace = gracePeriod

    do {
      let result = try await Subprocess.run(
        executable, arguments: Arguments(arguments), environment: environment,
        platformOptions: options, input: .inputWriter, output: .sequence, error: .sequence
      ) { execution in
        let pid = execution.processIdentifier.value
        let stopper = Task {
          await LocalTransport.stopWhenDue(pid: pid, timeout: command.timeout, grace: grace, state: state)
        }
        defer { stopper.cancel() }
        try await withTaskCancellationHandler {
          try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
              if let stdin = command.stdin, !stdin.isEmpty { _ = try await execution.standardInputWriter.write(stdin) }
              try await execution.standardInputWriter.finish()
            }
            group.addTask {
              for try await buffer in execution.standardOutput {
                let bytes = buffer.withUnsafeBytes { Array($0) }
                state.withLock { $0.stdout.append(bytes) }
                output?(.stdout, bytes)
              }
            }
            group.addTask {
              for try await buffer in execution.standardError {
                let bytes = buffer.withUnsafeBytes { Array($0) }
                state.withLock { $0.stderr.append(bytes) }
                output?(.stderr, bytes)
              }
            }
            try await group.waitForAll()
          }
        } onCancel: {
          state.withLock { $0.interrupted = true }
          LocalTransport.signalGroup(pid, SIGTERM)
        }
      }
      let finished = state.withLock { $0 }
      let termination: CommandResult.Termination
      switch result.terminationStatus {
      case .exited(let code): termination = .exited(code)
      case .signaled(let signal): termination = .signaled(Self.signalName(signal))
      }
      let commandResult = CommandResult(
        termination: termination, stdout: finished.stdout.head, stderr: finished.stderr.head,
        stdoutTruncated: finished.stdout.truncated, stderrTruncated: finished.stderr.truncated,
        stderrTail: finished.stderr.tailText, duration: clock.now - start)
      if finished.timedOut {
        throw TransportError(
          .timeout, host: host,
          detail:
            "no result after \(DurationText.format(command.timeout ?? .zero)); the command and its children were ended",
          hint: "raise the step's timeout if the work is legitimately slow",
          command: command.displayLine, termination: termination, stderrTail: finished.stderr.tailText)
      }
      if finished.interrupted {
        throw TransportError(.interrupted, host: host, detail: "stopped by the operator", command: command.displayLine)
      }
      return commandResult
    } catch let error as TransportError {
      throw error
    } catch {
      throw TransportError(
        .localFailure, host: host, detail: "could not run the command: \(error)", command: command.displayLine)
    }
  }

  /// Sends SIGTERM to the process group when the timeout passes, SIGKILL after the grace period.
  static func stopWhenDue(pid: pid_t, timeout: Duration?, grace: Duration, state: Locked<LocalRunState>) async {
    guard let timeout else { return }
    do { try await Task.sleep(for: timeout) } catch { return }
    state.withLock { $0.timedOut = true }
    signalGroup(pid, SIGTERM)
    do { try await Task.sleep(for: grace) } catch { return }
    signalGroup(pid, SIGKILL)
  }

  static func signalGroup(_ pid: pid_t, _ signal: Int32) {
    try? POSIX.kill(-pid, signal)
  }

  static func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGTERM: "TERM"
    case SIGKILL: "KILL"
    case SIGINT: "INT"
    case SIGHUP: "HUP"
    case SIGSEGV: "SEGV"
    case SIGABRT: "ABRT"
    case SIGPIPE: "PIPE"
    default: "\(signal)"
    }
  }

  public func upload(from localPath: String, to remotePath: String, mode: Int32) async throws(TransportError)
    -> TransferResult
  {
    try copy(from: localPath, to: remotePath, mode: mode)
  }

  public func download(from remotePath: String, to localPath: String) async throws(TransportError) -> TransferResult {
    try copy(from: remotePath, to: localPath, mode: 0o600)
  }

  /// A local "transfer" is a verified copy, written durably (POSIX.durableWrite: temporary
  /// name, checked against the original's checksum, fsync, rename, fsync of the directory).
  func copy(from source: String, to destination: String, mode: Int32) throws(TransportError) -> TransferResult {
    let start = ContinuousClock.now
    let host = self.host
    let temporary = destination + ".nexus-dr-partial"
    let failure = { (error: FileSystemError) in
      TransportError(.localFailure, host: host, detail: "copying \(source) to \(destination): cannot \(error)")
    }
    let copied = try POSIX.durableWrite(
      to: destination, permissions: FilePermissions(rawValue: mode_t(mode)), temporary: temporary, failure: failure
    ) { output throws(TransportError) in
      do {
        let input = try POSIX.open(source, .readOnly)
        defer { try? input.close() }
        let size: Int64
        do throws(Errno) { size = try input.stat().size } catch { throw FileSystemError("stat", source, error) }
        try POSIX.copyContents(from: input, at: source, size: size, to: output, at: temporary)
      } catch {
        throw TransportError(.localFailure, host: host, detail: "copying \(source) to \(destination): \(error)")
      }
      let original: (hex: String, bytes: Int64)
      let copied: (hex: String, bytes: Int64)
      do {
        original = try FileDigest.sha256(path: source)
        copied = try FileDigest.sha256(path: temporary)
      } catch {
        throw TransportError(.localFailure, host: host, detail: "copying \(source) to \(destination): \(error)")
      }
      guard original == copied else {
        throw TransportError(
          .transferFailed, host: host, detail: "checksum of the copy of \(source) differs from the original")
      }
      return copied
    }
    return TransferResult(bytes: copied.bytes, sha256: copied.hex, duration: ContinuousClock.now - start)
  }

  public func close() async {}
}

/// Output and flags shared between a local command's reader tasks.
struct LocalRunState: Sendable {
  var stdout: BoundedCapture
  var stderr: BoundedCapture
  var timedOut = false
  var interrupted = false

  init(limit: Int) {
    stdout = BoundedCapture(limit: limit)
    stderr = BoundedCapture(limit: limit)
  }
}
