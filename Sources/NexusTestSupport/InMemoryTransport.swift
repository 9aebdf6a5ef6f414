import Crypto
import Foundation
import NexusCore
import NexusTransport

/// A host that exists only in memory: each command is recorded and answered by `respond`
/// (exit 0 with no output unless it says otherwise), files move to and from a dictionary.
/// For tests of what runs commands (the engine, its steps and resume) without a host.
public final class InMemoryTransport: Transport, Sendable {
  /// Answers a command: its result, or the transport's error (a timeout, a lost connection).
  public typealias Responder = @Sendable (HostCommand) async throws(TransportError) -> CommandResult

  public let host: String
  private let respond: Responder
  private let state = Locked(State())

  struct State: Sendable {
    var commands: [HostCommand] = []
    var files: [String: [UInt8]] = [:]
    var closes = 0
  }

  public init(host: String, respond: @escaping Responder = { _ throws(TransportError) in .exited(0) }) {
    self.host = host
    self.respond = respond
  }

  /// Every command run so far, in order.
  public var commands: [HostCommand] { state.value.commands }

  /// Their command lines, as a remote shell would read them.
  public var commandLines: [String] { commands.map(\.commandLine) }

  /// The files on this host.
  public var files: [String: [UInt8]] { state.value.files }

  /// How many times `close()` was called.
  public var closeCount: Int { state.value.closes }

  public func run(_ command: HostCommand, output: OutputHandler?) async throws(TransportError) -> CommandResult {
    state.withLock { $0.commands.append(command) }
    let result = try await respond(command)
    if !result.stdout.isEmpty { output?(.stdout, result.stdout) }
    if !result.stderr.isEmpty { output?(.stderr, result.stderr) }
    return result
  }

  public func upload(from localPath: String, to remotePath: String, mode: Int32) async throws(TransportError)
    -> TransferResult
  {
    guard let data = FileManager.default.contents(atPath: localPath) else {
      throw TransportError(.localFailure, host: host, detail: "cannot read \(localPath)")
    }
    state.withLock { $0.files[remotePath] = Array(data) }
    return TransferResult(bytes: Int64(data.count), sha256: Self.sha256(data), duration: .zero)
  }

  public func download(from remotePath: String, to localPath: String) async throws(TransportError) -> TransferResult {
    guard let bytes = state.value.files[remotePath] else {
      throw TransportError(.transferFailed, host: host, detail: "\(remotePath) does not exist")
    }
    do { try POSIX.durableWrite(bytes, to: localPath) } catch {
      throw TransportError(.localFailure, host: host, detail: "cannot \(error)")
    }
    return TransferResult(bytes: Int64(bytes.count), sha256: Self.sha256(bytes), duration: .zero)
  }

  static func sha256(_ bytes: some DataProtocol) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
  }

  public func close() async {
    state.withLock { $0.closes += 1 }
  }
}

extension CommandResult {
  /// A command that exited with `code`, printing `stdout` and `stderr`.
  public static func exited(_ code: Int32, stdout: String = "", stderr: String = "") -> CommandResult {
    CommandResult(termination: .exited(code), stdout: Array(stdout.utf8), stderr: Array(stderr.utf8))
  }
}
