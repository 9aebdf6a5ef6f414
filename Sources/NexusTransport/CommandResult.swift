import NexusCore

/// What a command did. A non-zero exit is a result to inspect, not an error:
/// use ``checked(host:command:)`` where failure should stop the caller.
public struct CommandResult: Sendable {
  public enum Termination: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    /// Ended by a signal, named as the remote side reports it (`TERM`, `KILL`).
    case signaled(String)

    public var description: String {
      switch self {
      case .exited(let code): "exit status \(code)"
      case .signaled(let name): "killed by signal \(name)"
      }
    }
  }

  public var termination: Termination
  public var stdout: [UInt8]
  public var stderr: [UInt8]
  public var stdoutTruncated: Bool
  public var stderrTruncated: Bool
  /// The last few KiB of standard error, kept even when the capture was truncated.
  public var stderrTail: String
  public var duration: Duration

  public var exitCode: Int32? {
    if case .exited(let code) = termination { return code }
    return nil
  }

  public var succeeded: Bool { termination == .exited(0) }

  public init(
    termination: Termination, stdout: [UInt8] = [], stderr: [UInt8] = [], stdoutTruncated: Bool = false,
    stderrTruncated: Bool = false, stderrTail: String? = nil, duration: Duration = .zero
  ) {
    self.termination = termination
    self.stdout = stdout
    self.stderr = stderr
    self.stdoutTruncated = stdoutTruncated
    self.stderrTruncated = stderrTruncated
    self.stderrTail = stderrTail ?? Redactor.redact(String(decoding: stderr.suffix(4096), as: UTF8.self))
    self.duration = duration
  }

  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

  /// The result, or `commandFailed` naming the host, the command, its exit status
  /// and the tail of its standard error.
  public func checked(host: String, command: HostCommand, expected: Set<Int32> = [0]) throws(TransportError)
    -> CommandResult
  {
    if let code = exitCode, expected.contains(code) { return self }
    throw TransportError(
      .commandFailed, host: host,
      detail: "\(termination)",
      command: command.displayLine,
      termination: termination,
      stderrTail: stderrTail)
  }
}

/// Keeps the first `limit` bytes of a stream and, separately, its last `tailSize`
/// bytes, so a command that prints megabytes neither fills memory nor loses the
/// error message at its end.
struct BoundedCapture: Sendable {
  let limit: Int
  let tailSize: Int
  private(set) var head: [UInt8] = []
  private(set) var truncated = false
  private var tail: [UInt8] = []

  init(limit: Int, tailSize: Int = 4096) {
    self.limit = max(0, limit)
    self.tailSize = tailSize
  }

  mutating func append(_ bytes: some Collection<UInt8>) {
    if head.count < limit {
      let room = limit - head.count
      head.append(contentsOf: bytes.prefix(room))
      if bytes.count > room { truncated = true }
    } else if !bytes.isEmpty {
      truncated = true
    }
    tail.append(contentsOf: bytes.suffix(tailSize))
    if tail.count > tailSize { tail.removeFirst(tail.count - tailSize) }
  }

  var tailText: String { Redactor.redact(String(decoding: tail, as: UTF8.self)) }
}
