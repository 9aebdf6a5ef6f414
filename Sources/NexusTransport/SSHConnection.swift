import Foundation
import NexusCore
import SystemPackage

// One SSH session over libssh2 (LibSSH2.swift makes its calls; the socket's are POSIX's).
// The session runs in libssh2's non-blocking mode: each call that would block returns
// LIBSSH2_ERROR_EAGAIN and we wait on the socket with poll(2) up to a deadline, so a timeout
// is exact and a dead host never hangs a run. An `SSHConnection` is used from one thread at
// a time (its transport's serial queue): libssh2 sessions are not thread-safe. Host keys,
// authentication, channels and SCP are in the SSHConnection+… files.

final class SSHConnection: @unchecked Sendable {
  let host: String
  let address: String
  let port: Int
  private(set) var socket: FileDescriptor?
  private(set) var session: OpaquePointer?
  /// How long to wait in one poll(2) before checking for cancellation again.
  private let pollSlice: Duration = .milliseconds(100)

  var label: String { "\(address):\(port)" }

  init(host: String, address: String, port: Int) {
    self.host = host
    self.address = address
    self.port = port
  }

  deinit { disconnect() }

  func failure(_ code: TransportError.Code, _ detail: String, hint: String? = nil) -> TransportError {
    TransportError(code, host: host, address: label, detail: detail, hint: hint)
  }

  /// The library's message for the last error on this session.
  var lastError: String {
    guard let session else { return "no session" }
    let (message, code) = LibSSH2.lastError(session)
    return "\(message) (libssh2 error \(code))"
  }

  // MARK: Connecting

  /// TCP connect within the deadline, with TCP_NODELAY (libssh2 does not set it:
  /// without it every command pays ~40 ms of delayed-ACK stalls), then the SSH handshake.
  /// The host-key methods are set before the handshake (KnownHosts.hostKeyMethods), so the
  /// host presents a key of a type `knownHostKeyTypes` (known_hosts, for this host) holds.
  func connect(deadline: ContinuousClock.Instant, keepalive: Duration, knownHostKeyTypes: [String])
    throws(TransportError)
  {
    guard LibSSH2.initialized else { throw failure(.localFailure, "libssh2 failed to initialise") }
    let socket = try openSocket(deadline: deadline, keepalive: keepalive)
    self.socket = socket
    guard let session = LibSSH2.newSession() else {
      throw failure(.localFailure, "libssh2 could not create a session")
    }
    self.session = session
    LibSSH2.configure(session, keepaliveSeconds: UInt32(max(1, keepalive.components.seconds)))
    let methods = KnownHosts.hostKeyMethods(for: knownHostKeyTypes, supported: LibSSH2.supportedHostKeyMethods(session))
    guard LibSSH2.preferHostKeyMethods(session, methods) else {
      throw failure(.localFailure, "libssh2 accepts none of the host key types \(methods): \(lastError)")
    }
    do {
      try retry(until: deadline, code: .unreachable, what: "SSH handshake") {
        LibSSH2.handshake(session, socket: socket.rawValue)
      }
    } catch {
      guard LibSSH2.lastErrno(session) == LibSSH2.keyExchangeFailed, !knownHostKeyTypes.isEmpty else { throw error }
      // The host offers none of the key types known_hosts holds for it that this libssh2 can
      // check. Typically an rsa-only entry: libssh2 1.10 checks rsa host keys with SHA-1
      // signatures only, which OpenSSH 8.8 and later no longer make.
      throw failure(
        .hostKeyUnknown,
        "known_hosts holds only \(knownHostKeyTypes.joined(separator: ", ")) keys for this host, and the host offers none that can be checked here (\(methods)): \(lastError). Nothing was sent to it.",
        hint:
          "add the host's ed25519 key: compare 'ssh-keyscan -t ed25519 \(address) | ssh-keygen -lf -' with 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on its console, then append the ssh-keyscan line to known_hosts"
      )
    }
  }

  /// A dead link (a pulled cable, a host that lost power) sends no reset: without help the
  /// socket would wait for ever on a command that no longer runs. The kernel notices instead:
  /// data unacknowledged for two keepalive intervals (TCP_USER_TIMEOUT; libssh2 sends a
  /// keepalive every interval during a command), or an idle connection whose probes go
  /// unanswered (SO_KEEPALIVE), breaks the socket — within about three intervals.
  static func deadLinkOptions(_ socket: FileDescriptor, keepalive: Duration) {
    let seconds = Int32(clamping: max(1, keepalive.components.seconds))
    try? POSIX.set(.keepAlive, on: socket)
    try? POSIX.set(.keepAliveIdle(seconds: seconds), on: socket)
    try? POSIX.set(.keepAliveInterval(seconds: seconds), on: socket)
    try? POSIX.set(.keepAliveCount(2), on: socket)
    try? POSIX.set(.userTimeout(milliseconds: UInt32(clamping: Int64(seconds) * 2 * 1000)), on: socket)
  }

  private func openSocket(deadline: ContinuousClock.Instant, keepalive: Duration) throws(TransportError)
    -> FileDescriptor
  {
    let addresses: [POSIX.SocketAddress]
    do { addresses = try POSIX.streamAddresses(of: address, port: port) } catch {
      throw failure(
        .unreachable, "cannot resolve the address: \(error)",
        hint: "check the host's address in the inventory and this machine's DNS")
    }
    do throws(POSIX.ConnectError) {
      return try POSIX.connect(to: addresses, deadline: deadline) { socket in
        try? POSIX.set(.noDelay, on: socket)
        Self.deadLinkOptions(socket, keepalive: keepalive)
      }
    } catch {
      switch error {
      case .timedOut:
        throw failure(
          .unreachable, "no answer within the connect timeout",
          hint: "is the host up and on the network? Try: ping \(address)")
      case .failed(let problem):
        throw failure(
          .unreachable, "cannot connect: \(problem.map { "\($0)" } ?? "no address to try")",
          hint: "check that sshd runs on the host and listens on port \(port)")
      }
    }
  }

  func disconnect() {
    if let session {
      _ = waitLoop(deadline: .now + .seconds(2)) { LibSSH2.disconnect(session) }
      LibSSH2.free(session: session)
      self.session = nil
    }
    if let socket {
      try? socket.close()
      self.socket = nil
    }
  }

  // MARK: Waiting

  /// Sends a keepalive when one is due, so NAT and firewalls keep long runs open.
  func sendKeepalive() {
    guard let session else { return }
    LibSSH2.sendKeepalive(session)
  }

  /// Repeats a non-blocking call until it stops answering EAGAIN; throws on an error.
  func retry(until deadline: ContinuousClock.Instant?, code: TransportError.Code, what: String, _ call: () -> Int32)
    throws(TransportError)
  {
    while true {
      let status = call()
      if status == 0 { return }
      guard status == LibSSH2.wouldBlock else {
        throw failure(code, "\(what): \(lastError)")
      }
      try waitSocket(until: deadline)
    }
  }

  /// Repeats a non-blocking call until it stops answering EAGAIN or the deadline passes; returns its last status.
  func waitLoop(deadline: ContinuousClock.Instant, _ call: () -> Int32) -> Int32 {
    while true {
      let status = call()
      guard status == LibSSH2.wouldBlock else { return status }
      do { try waitSocket(until: deadline) } catch { return status }
    }
  }

  /// Waits until the socket is ready in the direction libssh2 is blocked on.
  /// With `slice`, returns after at most `pollSlice` so the caller can check for cancellation.
  func waitSocket(until deadline: ContinuousClock.Instant?, slice: Bool = false) throws(TransportError) {
    guard let session, let socket else { throw failure(.localFailure, "not connected") }
    let directions = LibSSH2.blockDirections(session)
    var events: POSIX.Readiness = []
    if directions.inbound { events.insert(.readable) }
    if directions.outbound { events.insert(.writable) }
    if events.isEmpty { events = .readable }
    var wait: Int64 = slice ? pollSlice.milliseconds : 1000
    if let deadline {
      let remaining = (deadline - ContinuousClock.now).milliseconds
      if remaining <= 0 && !slice { throw failure(.timeout, "no answer from the host in time") }
      wait = min(wait, max(0, remaining))
    }
    POSIX.wait(socket, for: events, timeout: .milliseconds(wait))
  }
}
