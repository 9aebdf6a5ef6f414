import Dispatch
import Foundation
import NexusCore
import SystemPackage

/// Runs commands on one host over one libssh2 session, reused for every command
/// of a run (a channel each).
///
/// libssh2 calls block, so they run on this transport's own serial dispatch
/// queue, never on Swift concurrency's shared threads.
public final class SSHTransport: Transport, @unchecked Sendable {
  public struct Target: Sendable, Hashable {
    public var address: String
    public var port: Int
    public var user: String

    public init(address: String, port: Int = 22, user: String) {
      self.address = address
      self.port = port
      self.user = user
    }
  }

  public let host: String
  public let target: Target
  public let settings: SSHSettings
  private let queue: DispatchQueue
  // Only touched on `queue`.
  private var connection: SSHConnection?

  public init(host: String, target: Target, settings: SSHSettings) {
    self.host = host
    self.target = target
    self.settings = settings
    self.queue = DispatchQueue(label: "nexus-dr.ssh.\(host)")
  }

  /// A transport to one host used in a scope: its session (opened by the first command) is
  /// closed when `body` returns or throws, as `close()` by hand would only on the paths written out.
  @discardableResult
  public static func with<Result>(
    host: String, target: Target, settings: SSHSettings, isolation: isolated (any Actor)? = #isolation,
    _ body: (SSHTransport) async throws -> Result
  ) async throws -> Result {
    let transport = SSHTransport(host: host, target: target, settings: settings)
    do {
      let result = try await body(transport)
      await transport.close()
      return result
    } catch {
      await transport.close()
      throw error
    }
  }

  /// Runs `body` on this transport's queue with a connected, verified, authenticated session.
  private func withConnection<T: Sendable>(
    _ body: @escaping @Sendable (SSHConnection) throws(TransportError) -> T
  ) async throws(TransportError) -> T {
    let result: Result<T, TransportError> = await withCheckedContinuation { continuation in
      queue.async {
        do throws(TransportError) {
          let connection = try self.connectedSession()
          do throws(TransportError) {
            continuation.resume(returning: .success(try body(connection)))
          } catch {
            // A broken connection is dropped so the next command reconnects.
            if error.code == .unreachable || error.code == .connectionLost || error.code == .protocolError {
              connection.disconnect()
              self.connection = nil
            }
            continuation.resume(returning: .failure(error))
          }
        } catch {
          continuation.resume(returning: .failure(error))
        }
      }
    }
    return try result.get()
  }

  /// Opens the session on first use: connect, check the host key strictly, authenticate.
  private func connectedSession() throws(TransportError) -> SSHConnection {
    if let connection { return connection }
    let connection = SSHConnection(host: host, address: target.address, port: target.port)
    let deadline = ContinuousClock.now + settings.connectTimeout
    let knownTypes = KnownHosts(file: settings.knownHosts).keyTypes(address: target.address, port: target.port)
    try connection.connect(deadline: deadline, keepalive: settings.keepalive, knownHostKeyTypes: knownTypes)
    let check = try connection.checkHostKey(knownHostsFile: settings.knownHosts)
    switch check.verdict {
    case .match:
      break
    case .notFound:
      throw TransportError(
        .hostKeyUnknown, host: host, address: connection.label,
        detail:
          "the host is not in \(settings.knownHosts); it presented the \(check.keyType) key \(check.fingerprint). Nothing was sent to it.",
        hint:
          "compare that fingerprint with the host's own \(check.keyType) key (on its console: ssh-keygen -lf /etc/ssh/ssh_host_\(KnownHosts.fileStem(keyType: check.keyType))_key.pub); if they are the same, accept it with: echo '\(check.knownHostsLine)' >> \(settings.knownHosts)"
      )
    case .mismatch(let knownFingerprint):
      throw TransportError(
        .hostKeyChanged, host: host, address: connection.label,
        detail:
          "the host presented the \(check.keyType) key \(check.fingerprint), but \(settings.knownHosts) expects \(knownFingerprint ?? "another key"). Someone may be intercepting the connection, or the host was reinstalled. Nothing was sent to it.",
        hint:
          "do not continue until you know why. If the host was really reinstalled, check the new \(check.keyType) fingerprint on its console (ssh-keygen -lf /etc/ssh/ssh_host_\(KnownHosts.fileStem(keyType: check.keyType))_key.pub), then remove the old entry (ssh-keygen -R '\(target.port == 22 ? target.address : "[\(target.address)]:\(target.port)")' -f \(settings.knownHosts)) and add the new one"
      )
    }
    let useAgent = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"].map { !$0.isEmpty } ?? false
    try connection.authenticate(
      user: target.user, identity: settings.identity, useAgent: useAgent, deadline: deadline)
    self.connection = connection
    return connection
  }

  /// Connects now (rather than at the first command): `hosts check` uses it to time the connection.
  public func connect() async throws(TransportError) {
    _ = try await withConnection { _ throws(TransportError) in true }
  }

  public func run(_ command: HostCommand, output: OutputHandler?) async throws(TransportError)
    -> CommandResult
  {
    for name in command.environment.keys where !HostCommand.isValidVariableName(name) {
      throw TransportError(
        .localFailure, host: host, detail: "invalid environment variable name '\(name)'")
    }
    // The remote shell is the leader of a new session (sshd calls setsid), so its
    // pid is also its process group: printing it first lets a timeout or an
    // interrupt end the whole group with `kill -- -PID` over a second channel.
    let line = "printf '%s\\n' \"$$\"; " + command.commandLine
    let cancelled = CancellationFlag()
    let host = self.host
    let clock = ContinuousClock()
    let start = clock.now
    let outcome: RemoteRun
    do {
      outcome = try await withTaskCancellationHandler {
        try await withConnection { connection throws(TransportError) in
          var stdout = BoundedCapture(limit: command.captureLimit)
          var stderr = BoundedCapture(limit: command.captureLimit)
          var pidLine = PIDLineReader()
          let deadline = command.timeout.map { clock.now + $0 }
          let ending = try connection.execute(
            line, stdin: command.stdin, deadline: deadline, isCancelled: { cancelled.isSet },
            onOutput: { stream, bytes in
              var piece = Array(bytes)
              if stream == .stdout { piece = pidLine.consume(piece) }
              guard !piece.isEmpty else { return }
              if stream == .stdout { stdout.append(piece) } else { stderr.append(piece) }
              output?(stream, piece)
            },
            onStop: { _ in
              guard let pid = pidLine.pid else { return }
              let stop =
                "kill -TERM -- -\(pid) 2>/dev/null; i=0; while kill -0 -- -\(pid) 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL -- -\(pid) 2>/dev/null; exit 0"
              _ = try? connection.execute(
                stop, stdin: nil, deadline: .now + .seconds(15), isCancelled: { false },
                onOutput: { _, _ in }, onStop: { _ in })
            })
          return RemoteRun(ending: ending, stdout: stdout, stderr: stderr)
        }
      } onCancel: {
        cancelled.set()
      }
    } catch let error as TransportError {
      throw error
    } catch {
      throw TransportError(.protocolError, host: host, detail: "\(error)")
    }
    let duration = clock.now - start
    switch outcome.ending {
    case .exited(let status, let signal):
      return CommandResult(
        termination: signal.map { .signaled($0) } ?? .exited(status),
        stdout: outcome.stdout.head, stderr: outcome.stderr.head,
        stdoutTruncated: outcome.stdout.truncated, stderrTruncated: outcome.stderr.truncated,
        stderrTail: outcome.stderr.tailText, duration: duration)
    case .deadlineReached:
      // A libssh2 call may have been left half done: start the next command on a fresh session.
      await close()
      throw TransportError(
        .timeout, host: host, address: "\(target.address):\(target.port)",
        detail:
          "no result after \(DurationText.format(command.timeout ?? .zero)); the command and its children were ended on the host",
        hint: "raise the step's timeout if the work is legitimately slow",
        command: command.displayLine, stderrTail: outcome.stderr.tailText)
    case .cancelled:
      await close()
      throw TransportError(
        .interrupted, host: host, address: "\(target.address):\(target.port)",
        detail: "stopped by the operator; the command and its children were ended on the host",
        command: command.displayLine)
    }
  }

  public func upload(from localPath: String, to remotePath: String, mode: Int32)
    async throws(TransportError) -> TransferResult
  {
    let start = ContinuousClock.now
    let local: (hex: String, bytes: Int64)
    do { local = try FileDigest.sha256(path: localPath) } catch {
      throw TransportError(.localFailure, host: host, detail: "cannot read \(localPath): \(error)")
    }
    let timeout = transferTimeout(bytes: local.bytes)
    try await withConnection { connection throws(TransportError) in
      try connection.scpSend(
        localPath: localPath, remotePath: remotePath, mode: mode, size: local.bytes,
        deadline: .now + timeout)
    }
    let remote = try await remoteDigest(remotePath)
    guard remote.bytes == local.bytes, remote.hex == local.hex else {
      throw TransportError(
        .transferFailed, host: host, address: "\(target.address):\(target.port)",
        detail:
          "the copy of \(localPath) at \(remotePath) does not match: \(remote.bytes) bytes, sha256 \(remote.hex), expected \(local.bytes) bytes, sha256 \(local.hex)",
        hint: "check free space on the host and retry")
    }
    return TransferResult(bytes: local.bytes, sha256: local.hex, duration: .now - start)
  }

  public func download(from remotePath: String, to localPath: String) async throws(TransportError)
    -> TransferResult
  {
    let start = ContinuousClock.now
    let remote = try await remoteDigest(remotePath)
    let temporary = localPath + ".nexus-dr-partial"
    let timeout = transferTimeout(bytes: remote.bytes)
    let host = self.host
    let address = "\(target.address):\(target.port)"
    // Written durably (temporary name, checked against the host's checksum, fsync, rename,
    // fsync of the directory), on the session's queue: scp writes into the open file.
    let local = try await withConnection { connection throws(TransportError) in
      try POSIX.durableWrite(
        to: localPath, permissions: .ownerReadWrite, temporary: temporary,
        failure: { TransportError(.localFailure, host: host, detail: "cannot \($0)") }
      ) { file throws(TransportError) in
        _ = try connection.scpReceive(remotePath: remotePath, into: file, deadline: .now + timeout)
        let local: (hex: String, bytes: Int64)
        do { local = try FileDigest.sha256(path: temporary) } catch {
          throw TransportError(.localFailure, host: host, detail: "cannot read back \(temporary): \(error)")
        }
        guard local == remote else {
          throw TransportError(
            .transferFailed, host: host, address: address,
            detail:
              "the downloaded copy of \(remotePath) does not match: \(local.bytes) bytes, sha256 \(local.hex), expected \(remote.bytes) bytes, sha256 \(remote.hex)"
          )
        }
        return local
      }
    }
    return TransferResult(bytes: local.bytes, sha256: local.hex, duration: .now - start)
  }

  /// Size and SHA-256 of a file, computed on the host where it lives.
  public func remoteDigest(_ path: String) async throws(TransportError) -> (
    hex: String, bytes: Int64
  ) {
    let command = HostCommand.argv(
      ["sh", "-c", "stat -c %s -- \"$1\" && sha256sum -- \"$1\"", "nexus-dr", path],
      timeout: .seconds(600))
    let result = try await runChecked(command)
    let fields = result.stdoutText.split(whereSeparator: \.isWhitespace)
    guard fields.count >= 2, let bytes = Int64(fields[0]) else {
      throw TransportError(
        .transferFailed, host: host, detail: "unexpected answer from stat/sha256sum for \(path)")
    }
    return (String(fields[1]), bytes)
  }

  /// Generous: 60 s plus one second per 4 MiB.
  private func transferTimeout(bytes: Int64) -> Duration {
    .seconds(60 + bytes / (4 << 20))
  }

  public func close() async {
    await withCheckedContinuation { continuation in
      queue.async {
        self.connection?.disconnect()
        self.connection = nil
        continuation.resume()
      }
    }
  }
}

/// The outputs of one remote command, carried back from the transport's queue.
private struct RemoteRun: Sendable {
  var ending: ChannelOutcome
  var stdout: BoundedCapture
  var stderr: BoundedCapture
}

extension ChannelOutcome: @unchecked Sendable {}
