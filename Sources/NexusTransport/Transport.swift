/// Runs commands and moves files on one host.
///
/// One value per host per run: an SSH transport keeps one authenticated session
/// and opens a channel per command.
public protocol Transport: Sendable {
  /// The host's role in the inventory (`server`, `gate`).
  var host: String { get }

  /// Runs a command, streaming its output to `output` as it arrives. Returns
  /// when it has ended; throws `timeout` (after ending it) or `interrupted`
  /// (after ending it, when the calling task is cancelled).
  func run(_ command: HostCommand, output: OutputHandler?) async throws(TransportError) -> CommandResult

  /// Copies a local file to the host; size and SHA-256 are compared afterwards.
  func upload(from localPath: String, to remotePath: String, mode: Int32) async throws(TransportError) -> TransferResult

  /// Copies a file from the host; size and SHA-256 are compared afterwards.
  func download(from remotePath: String, to localPath: String) async throws(TransportError) -> TransferResult

  /// Ends the session. Later calls reconnect.
  func close() async
}

extension Transport {
  public func run(_ command: HostCommand) async throws(TransportError) -> CommandResult {
    try await run(command, output: nil)
  }

  /// Runs the command and throws `commandFailed` unless it exits with an expected status.
  public func runChecked(
    _ command: HostCommand, expected: Set<Int32> = [0], output: OutputHandler? = nil
  ) async throws(TransportError) -> CommandResult {
    try await run(command, output: output).checked(host: host, command: command, expected: expected)
  }
}

/// A verified file transfer.
public struct TransferResult: Sendable, Hashable {
  public var bytes: Int64
  public var sha256: String
  public var duration: Duration

  public init(bytes: Int64, sha256: String, duration: Duration) {
    self.bytes = bytes
    self.sha256 = sha256
    self.duration = duration
  }
}
