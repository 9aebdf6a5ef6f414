import CLibSSH2
import Crypto
import Foundation
import NexusCore
import SystemPackage

// Every libssh2 call of nexus-dr is in this file (the socket's C calls are POSIX's). The
// session runs in libssh2's non-blocking mode: each call that would block returns
// LIBSSH2_ERROR_EAGAIN and we wait on the socket with poll(2) up to a deadline, so a
// timeout is exact and a dead host never hangs a run. An `SSHConnection` is used from one thread at a
// time (its transport's serial queue): libssh2 sessions are not thread-safe.

private let libssh2Initialized: Bool = libssh2_init(0) == 0

/// What the host presented, and what known_hosts says about it.
struct HostKeyCheck {
  enum Verdict { case match, mismatch(knownFingerprint: String?), notFound }
  var verdict: Verdict
  var fingerprint: String
  var keyType: String
  /// The line to add to known_hosts to accept this key.
  var knownHostsLine: String
}

/// How a command on a channel ended.
enum ChannelOutcome {
  case exited(status: Int32, signal: String?)
  case deadlineReached
  case cancelled
}

final class SSHConnection: @unchecked Sendable {
  let host: String
  let address: String
  let port: Int
  private var socket: FileDescriptor?
  private var session: OpaquePointer?
  /// How long to wait in one poll(2) before checking for cancellation again.
  private let pollSlice: Duration = .milliseconds(100)

  var label: String { "\(address):\(port)" }

  init(host: String, address: String, port: Int) {
    self.host = host
    self.address = address
    self.port = port
  }

  deinit { disconnect() }

  private func failure(_ code: TransportError.Code, _ detail: String, hint: String? = nil) -> TransportError {
    TransportError(code, host: host, address: label, detail: detail, hint: hint)
  }

  /// The library's message for the last error on this session.
  private var lastError: String {
    guard let session else { return "no session" }
    var message: UnsafeMutablePointer<CChar>?
    var length: Int32 = 0
    let code = libssh2_session_last_error(session, &message, &length, 0)
    let text = message.map { String(cString: $0) } ?? "unknown"
    return "\(text) (libssh2 error \(code))"
  }

  // MARK: Connecting

  /// TCP connect within the deadline, with TCP_NODELAY (libssh2 does not set it:
  /// without it every command pays ~40 ms of delayed-ACK stalls), then the SSH handshake.
  /// The host-key methods are set before the handshake (KnownHosts.hostKeyMethods), so the
  /// host presents a key of a type `knownHostKeyTypes` (known_hosts, for this host) holds.
  func connect(deadline: ContinuousClock.Instant, keepalive: Duration, knownHostKeyTypes: [String]) throws(TransportError) {
    guard libssh2Initialized else { throw failure(.localFailure, "libssh2 failed to initialise") }
    let socket = try openSocket(deadline: deadline, keepalive: keepalive)
    self.socket = socket
    guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
      throw failure(.localFailure, "libssh2 could not create a session")
    }
    self.session = session
    libssh2_session_set_blocking(session, 0)
    let seconds = UInt32(max(1, keepalive.components.seconds))
    libssh2_keepalive_config(session, 1, seconds)
    let methods = KnownHosts.hostKeyMethods(for: knownHostKeyTypes, supported: supportedHostKeyMethods())
    guard libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, methods) == 0 else {
      throw failure(.localFailure, "libssh2 accepts none of the host key types \(methods): \(lastError)")
    }
    do {
      try retry(until: deadline, code: .unreachable, what: "SSH handshake") { libssh2_session_handshake(session, socket.rawValue) }
    } catch {
      let code = libssh2_session_last_errno(session)
      guard code == LIBSSH2_ERROR_KEX_FAILURE, !knownHostKeyTypes.isEmpty else { throw error }
      // The host offers none of the key types known_hosts holds for it that this libssh2 can
      // check. Typically an rsa-only entry: libssh2 1.10 checks rsa host keys with SHA-1
      // signatures only, which OpenSSH 8.8 and later no longer make.
      throw failure(
        .hostKeyUnknown,
        "known_hosts holds only \(knownHostKeyTypes.joined(separator: ", ")) keys for this host, and the host offers none that can be checked here (\(methods)): \(lastError). Nothing was sent to it.",
        hint: "add the host's ed25519 key: compare 'ssh-keyscan -t ed25519 \(address) | ssh-keygen -lf -' with 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on its console, then append the ssh-keyscan line to known_hosts")
    }
  }

  /// The host-key methods this libssh2 implements (1.10 has no rsa-sha2-256/512 host keys).
  private func supportedHostKeyMethods() -> [String] {
    guard let session else { return [] }
    var list: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &list)
    guard count > 0, let list else { return [] }
    defer { libssh2_free(session, list) }
    return (0..<Int(count)).compactMap { list[$0].map { String(cString: $0) } }
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

  private func openSocket(deadline: ContinuousClock.Instant, keepalive: Duration) throws(TransportError) -> FileDescriptor {
    let addresses: [POSIX.SocketAddress]
    do { addresses = try POSIX.streamAddresses(of: address, port: port) } catch {
      throw failure(.unreachable, "cannot resolve the address: \(error)",
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
        throw failure(.unreachable, "no answer within the connect timeout",
          hint: "is the host up and on the network? Try: ping \(address)")
      case .failed(let problem):
        throw failure(.unreachable, "cannot connect: \(problem.map { "\($0)" } ?? "no address to try")",
          hint: "check that sshd runs on the host and listens on port \(port)")
      }
    }
  }

  // MARK: Host key

  /// Compares the key the host presented with the known_hosts file.
  func checkHostKey(knownHostsFile: String) throws(TransportError) -> HostKeyCheck {
    guard let session else { throw failure(.localFailure, "not connected") }
    var length = 0
    var type: Int32 = 0
    guard let key = libssh2_session_hostkey(session, &length, &type) else {
      throw failure(.protocolError, "the host presented no host key: \(lastError)")
    }
    let keyBytes = [UInt8](UnsafeRawBufferPointer(start: key, count: length))
    let (typeName, typeMask) = Self.keyType(type)
    let fingerprint = Self.fingerprint(Data(keyBytes))
    let hostField = port == 22 ? address : "[\(address)]:\(port)"
    let line = "\(hostField) \(typeName) \(Data(keyBytes).base64EncodedString())"

    guard let knownHosts = libssh2_knownhost_init(session) else {
      throw failure(.localFailure, "libssh2 could not allocate the known hosts list")
    }
    defer { libssh2_knownhost_free(knownHosts) }
    if !FileManager.default.fileExists(atPath: knownHostsFile) {
      return HostKeyCheck(verdict: .notFound, fingerprint: fingerprint, keyType: typeName, knownHostsLine: line)
    }
    if libssh2_knownhost_readfile(knownHosts, knownHostsFile, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0 {
      throw failure(.localFailure, "cannot read known hosts file \(knownHostsFile): \(lastError)",
        hint: "it must be in OpenSSH known_hosts format")
    }
    var found: UnsafeMutablePointer<libssh2_knownhost>?
    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | typeMask
    let result = key.withMemoryRebound(to: CChar.self, capacity: length) { pointer in
      libssh2_knownhost_checkp(knownHosts, address, Int32(port), pointer, length, mask, &found)
    }
    let verdict: HostKeyCheck.Verdict
    switch result {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
      verdict = .match
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      let known = found.flatMap { $0.pointee.key }.flatMap { Data(base64Encoded: String(cString: $0)) }
      verdict = .mismatch(knownFingerprint: known.map(Self.fingerprint))
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
      verdict = .notFound
    default:
      throw failure(.localFailure, "could not check the host key against \(knownHostsFile): \(lastError)")
    }
    return HostKeyCheck(verdict: verdict, fingerprint: fingerprint, keyType: typeName, knownHostsLine: line)
  }

  /// OpenSSH's fingerprint form: `SHA256:` and the unpadded base64 of the key's SHA-256.
  static func fingerprint(_ key: Data) -> String {
    let base64 = Data(SHA256.hash(data: key)).base64EncodedString()
    return "SHA256:" + base64.trimmingCharacters(in: CharacterSet(charactersIn: "="))
  }

  private static func keyType(_ type: Int32) -> (String, Int32) {
    switch type {
    case LIBSSH2_HOSTKEY_TYPE_RSA: ("ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA)
    case LIBSSH2_HOSTKEY_TYPE_DSS: ("ssh-dss", LIBSSH2_KNOWNHOST_KEY_SSHDSS)
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: ("ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256)
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: ("ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384)
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: ("ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521)
    case LIBSSH2_HOSTKEY_TYPE_ED25519: ("ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519)
    default: ("unknown", LIBSSH2_KNOWNHOST_KEY_UNKNOWN)
    }
  }

  // MARK: Authentication

  /// Public-key authentication: ssh-agent first when `useAgent`, then the key file.
  func authenticate(user: String, identity: String?, useAgent: Bool, deadline: ContinuousClock.Instant) throws(TransportError) {
    guard let session else { throw failure(.localFailure, "not connected") }
    var tried: [String] = []
    if useAgent, try authenticateWithAgent(user: user, deadline: deadline) { return }
    if useAgent { tried.append("the keys in ssh-agent") }
    if let identity {
      guard FileManager.default.isReadableFile(atPath: identity) else {
        throw failure(.localFailure, "cannot read the SSH key file \(identity)",
          hint: "check the inventory's ssh.identity and the file's permissions (0600, owned by this user)")
      }
      let status = waitLoop(deadline: deadline) {
        libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, identity, nil)
      }
      if status == 0 { return }
      if status == LIBSSH2_ERROR_EAGAIN {
        throw failure(.unreachable, "no answer during authentication within the connect timeout")
      }
      if status != LIBSSH2_ERROR_AUTHENTICATION_FAILED && status != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED {
        throw failure(.localFailure, "cannot use the key file \(identity): \(lastError)",
          hint: "the key must be unencrypted, in OpenSSH or PEM format")
      }
      tried.append("the key \(identity)")
    }
    throw failure(.authenticationRefused, "the host refused \(tried.isEmpty ? "everything" : tried.joined(separator: " and ")) for user '\(user)'",
      hint: "add the public key to ~\(user)/.ssh/authorized_keys on the host")
  }

  private func authenticateWithAgent(user: String, deadline: ContinuousClock.Instant) throws(TransportError) -> Bool {
    guard let session, let agent = libssh2_agent_init(session) else { return false }
    defer {
      libssh2_agent_disconnect(agent)
      libssh2_agent_free(agent)
    }
    guard libssh2_agent_connect(agent) == 0, libssh2_agent_list_identities(agent) == 0 else { return false }
    var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
    var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
    while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
      let status = waitLoop(deadline: deadline) { libssh2_agent_userauth(agent, user, current) }
      if status == 0 { return true }
      previous = current
    }
    return false
  }

  // MARK: Channels

  /// Runs `commandLine` through the remote account's shell on a new channel.
  ///
  /// `stdin` is sent, then end-of-file. Output is handed to `onOutput` as it
  /// arrives. When the deadline passes or `isCancelled` turns true, `onStop` is
  /// called (to end the remote process group over another channel) before this
  /// channel is closed.
  func execute(
    _ commandLine: String, stdin: [UInt8]?, deadline: ContinuousClock.Instant?, isCancelled: () -> Bool,
    onOutput: (OutputStream, UnsafeRawBufferPointer) -> Void, onStop: (ChannelOutcome) -> Void
  ) throws(TransportError) -> ChannelOutcome {
    let channel = try openChannel(deadline: deadline ?? .now + .seconds(60))
    defer { libssh2_channel_free(channel) }
    try retry(until: deadline, code: .protocolError, what: "starting the command") {
      libssh2_channel_process_startup(channel, "exec", 4, commandLine, UInt32(commandLine.utf8.count))
    }
    if let stdin, !stdin.isEmpty {
      var offset = 0
      while offset < stdin.count {
        let written = stdin.withUnsafeBytes { buffer in
          libssh2_channel_write_ex(channel, 0, buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), stdin.count - offset)
        }
        if written == Int(LIBSSH2_ERROR_EAGAIN) { try waitSocket(until: deadline); continue }
        if written < 0 { throw failure(.connectionLost, "writing standard input: \(lastError)") }
        offset += written
      }
    }
    try retry(until: deadline, code: .connectionLost, what: "closing standard input") { libssh2_channel_send_eof(channel) }

    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 * 1024, alignment: 8)
    defer { buffer.deallocate() }
    var outcome: ChannelOutcome?
    while outcome == nil {
      var progressed = false
      for (streamID, stream) in [(Int32(0), OutputStream.stdout), (Int32(1), OutputStream.stderr)] {
        while true {
          let count = libssh2_channel_read_ex(channel, streamID, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
          if count > 0 {
            onOutput(stream, UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            progressed = true
            continue
          }
          if count == 0 || count == Int(LIBSSH2_ERROR_EAGAIN) { break }
          throw failure(.connectionLost, "the connection broke while the command ran: \(lastError)",
            hint: "the command may still be running on the host; check it before retrying")
        }
      }
      if libssh2_channel_eof(channel) != 0 {
        outcome = .exited(status: 0, signal: nil)
        break
      }
      if isCancelled() { outcome = .cancelled; break }
      if let deadline, ContinuousClock.now >= deadline { outcome = .deadlineReached; break }
      if !progressed { try waitSocket(until: deadline, slice: true) }
      sendKeepalive()
    }
    if case .exited = outcome {
      // The command closed its output; it may still run. Its exit status comes just
      // before the host closes the channel: wait for that, still honouring the
      // deadline and an interrupt, instead of assuming it finished.
      while true {
        let status = libssh2_channel_wait_closed(channel)
        if status == 0 { break }
        guard status == LIBSSH2_ERROR_EAGAIN else {
          throw failure(.connectionLost, "the host did not report how the command ended: \(lastError)",
            hint: "the command may still be running on the host; check it before retrying")
        }
        if isCancelled() { outcome = .cancelled; break }
        if let deadline, ContinuousClock.now >= deadline { outcome = .deadlineReached; break }
        try waitSocket(until: deadline, slice: true)
        sendKeepalive()
      }
      if case .exited = outcome {
        _ = waitLoop(deadline: .now + .seconds(10)) { libssh2_channel_close(channel) }
        return .exited(status: libssh2_channel_get_exit_status(channel), signal: exitSignal(channel))
      }
    }
    onStop(outcome!)
    _ = waitLoop(deadline: .now + .seconds(10)) { libssh2_channel_close(channel) }
    return outcome!
  }

  private func exitSignal(_ channel: OpaquePointer) -> String? {
    var name: UnsafeMutablePointer<CChar>?
    var length = 0
    guard libssh2_channel_get_exit_signal(channel, &name, &length, nil, nil, nil, nil) == 0, let name else { return nil }
    // libssh2 allocated it (LIBSSH2_ALLOC): its own free, not the C library's.
    defer { if let session { libssh2_free(session, name) } }
    return length > 0 ? String(cString: name) : nil
  }

  private func openChannel(deadline: ContinuousClock.Instant) throws(TransportError) -> OpaquePointer {
    guard let session else { throw failure(.localFailure, "not connected") }
    while true {
      if let channel = libssh2_channel_open_ex(session, "session", 7, 2 * 1024 * 1024, 32768, nil, 0) {
        return channel
      }
      guard libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN else {
        throw failure(.unreachable, "cannot open a channel: \(lastError)",
          hint: "the session may have dropped; the next command reconnects")
      }
      try waitSocket(until: deadline)
    }
  }

  // MARK: File transfer (SCP)

  /// Sends a local file with SCP to `remotePath`.
  func scpSend(localPath: String, remotePath: String, mode: Int32, size: Int64, deadline: ContinuousClock.Instant) throws(TransportError) {
    guard let session else { throw failure(.localFailure, "not connected") }
    let input: FileDescriptor
    do { input = try POSIX.open(localPath, .readOnly) } catch {
      throw failure(.localFailure, "cannot open \(localPath): \(error.errno)")
    }
    defer { try? input.close() }
    var channel: OpaquePointer?
    while channel == nil {
      channel = libssh2_scp_send64(session, remotePath, mode & 0o777, size, 0, 0)
      if channel == nil {
        guard libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN else {
          throw failure(.transferFailed, "the host refused the upload to \(remotePath): \(lastError)",
            hint: "check that the directory exists and is writable")
        }
        try waitSocket(until: deadline)
      }
    }
    defer { libssh2_channel_free(channel) }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256 * 1024, alignment: 8)
    defer { buffer.deallocate() }
    while true {
      let count: Int
      do { count = try input.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: 256 * 1024)) } catch {
        throw failure(.localFailure, "cannot read \(localPath): \(POSIX.systemError(error))")
      }
      if count == 0 { break }
      var offset = 0
      while offset < count {
        let written = libssh2_channel_write_ex(channel, 0, buffer.advanced(by: offset).assumingMemoryBound(to: CChar.self), count - offset)
        if written == Int(LIBSSH2_ERROR_EAGAIN) { try waitSocket(until: deadline); continue }
        if written < 0 { throw failure(.transferFailed, "upload to \(remotePath) broke: \(lastError)") }
        offset += written
      }
    }
    try retry(until: deadline, code: .transferFailed, what: "finishing the upload") { libssh2_channel_send_eof(channel) }
    try retry(until: deadline, code: .transferFailed, what: "finishing the upload") { libssh2_channel_wait_eof(channel) }
    try retry(until: deadline, code: .transferFailed, what: "finishing the upload") { libssh2_channel_wait_closed(channel) }
  }

  /// Receives `remotePath` with SCP into an open local file; returns the size the host announced.
  func scpReceive(remotePath: String, into output: FileDescriptor, deadline: ContinuousClock.Instant) throws(TransportError) -> Int64 {
    guard let session else { throw failure(.localFailure, "not connected") }
    var info = libssh2_struct_stat()
    var channel: OpaquePointer?
    while channel == nil {
      channel = libssh2_scp_recv2(session, remotePath, &info)
      if channel == nil {
        guard libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN else {
          throw failure(.transferFailed, "cannot download \(remotePath): \(lastError)",
            hint: "check that the file exists and is readable on the host")
        }
        try waitSocket(until: deadline)
      }
    }
    defer { libssh2_channel_free(channel) }
    let size = Int64(info.st_size)
    var received: Int64 = 0
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256 * 1024, alignment: 8)
    defer { buffer.deallocate() }
    while received < size {
      let wanted = Int(min(Int64(256 * 1024), size - received))
      let count = libssh2_channel_read_ex(channel, 0, buffer.assumingMemoryBound(to: CChar.self), wanted)
      if count == Int(LIBSSH2_ERROR_EAGAIN) { try waitSocket(until: deadline); continue }
      if count < 0 { throw failure(.transferFailed, "download of \(remotePath) broke: \(lastError)") }
      if count == 0 && libssh2_channel_eof(channel) != 0 { break }
      do { _ = try output.writeAll(UnsafeRawBufferPointer(start: buffer, count: count)) } catch {
        throw failure(.localFailure, "cannot write the downloaded data: \(POSIX.systemError(error))")
      }
      received += Int64(count)
    }
    return size
  }

  // MARK: Waiting

  /// Sends a keepalive when one is due, so NAT and firewalls keep long runs open.
  func sendKeepalive() {
    guard let session else { return }
    var next: Int32 = 0
    _ = libssh2_keepalive_send(session, &next)
  }

  /// Repeats a non-blocking call until it stops answering EAGAIN; throws on an error.
  private func retry(until deadline: ContinuousClock.Instant?, code: TransportError.Code, what: String, _ call: () -> Int32) throws(TransportError) {
    while true {
      let status = call()
      if status == 0 { return }
      guard status == LIBSSH2_ERROR_EAGAIN else {
        throw failure(code, "\(what): \(lastError)")
      }
      try waitSocket(until: deadline)
    }
  }

  /// Repeats a non-blocking call until it stops answering EAGAIN or the deadline passes; returns its last status.
  private func waitLoop(deadline: ContinuousClock.Instant, _ call: () -> Int32) -> Int32 {
    while true {
      let status = call()
      guard status == LIBSSH2_ERROR_EAGAIN else { return status }
      do { try waitSocket(until: deadline) } catch { return status }
    }
  }

  /// Waits until the socket is ready in the direction libssh2 is blocked on.
  /// With `slice`, returns after at most `pollSlice` so the caller can check for cancellation.
  private func waitSocket(until deadline: ContinuousClock.Instant?, slice: Bool = false) throws(TransportError) {
    guard let session, let socket else { throw failure(.localFailure, "not connected") }
    let directions = libssh2_session_block_directions(session)
    var events: POSIX.Readiness = []
    if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events.insert(.readable) }
    if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events.insert(.writable) }
    if events.isEmpty { events = .readable }
    var wait: Int64 = slice ? pollSlice.milliseconds : 1000
    if let deadline {
      let remaining = (deadline - ContinuousClock.now).milliseconds
      if remaining <= 0 && !slice { throw failure(.timeout, "no answer from the host in time") }
      wait = min(wait, max(0, remaining))
    }
    POSIX.wait(socket, for: events, timeout: .milliseconds(wait))
  }

  func disconnect() {
    if let session {
      _ = waitLoop(deadline: .now + .seconds(2)) {
        libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "nexus-dr done", "")
      }
      libssh2_session_free(session)
      self.session = nil
    }
    if let socket {
      try? socket.close()
      self.socket = nil
    }
  }
}
