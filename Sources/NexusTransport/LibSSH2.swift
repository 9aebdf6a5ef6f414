import CLibSSH2
import Foundation

// Every libssh2 call of nexus-dr is in this file, each wrapped once, as swift-system's
// Syscalls.swift wraps the C library: SSHConnection and its extensions decide what to do with
// a session and its channels, these wrappers only how libssh2 is asked. Sessions, channels,
// agents and known-hosts lists are libssh2's opaque pointers. Calls that would block return
// `LibSSH2.wouldBlock` (the session is non-blocking); the caller waits on the socket.

/// The libssh2 calls nexus-dr makes.
enum LibSSH2 {
  /// libssh2_init, once per process.
  static let initialized: Bool = libssh2_init(0) == 0

  /// LIBSSH2_ERROR_EAGAIN: wait on the socket in the direction libssh2 says, then call again.
  static let wouldBlock = LIBSSH2_ERROR_EAGAIN
  static let keyExchangeFailed = LIBSSH2_ERROR_KEX_FAILURE
  static let authenticationFailed = LIBSSH2_ERROR_AUTHENTICATION_FAILED
  static let publicKeyUnverified = LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED

  // MARK: Sessions

  /// libssh2_session_init_ex with libssh2's own allocator.
  static func newSession() -> OpaquePointer? { libssh2_session_init_ex(nil, nil, nil, nil) }

  /// Non-blocking mode (libssh2_session_set_blocking), and keepalives every `seconds` that
  /// the server must answer (libssh2_keepalive_config).
  static func configure(_ session: OpaquePointer, keepaliveSeconds seconds: UInt32) {
    libssh2_session_set_blocking(session, 0)
    libssh2_keepalive_config(session, 1, seconds)
  }

  /// The host-key methods to offer, in order (libssh2_session_method_pref); false when libssh2 takes none.
  static func preferHostKeyMethods(_ session: OpaquePointer, _ methods: String) -> Bool {
    libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, methods) == 0
  }

  /// The host-key methods this libssh2 implements (libssh2_session_supported_algs).
  static func supportedHostKeyMethods(_ session: OpaquePointer) -> [String] {
    var list: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &list)
    guard count > 0, let list else { return [] }
    defer { libssh2_free(session, list) }
    return (0..<Int(count)).compactMap { list[$0].map { String(cString: $0) } }
  }

  /// libssh2_session_handshake on a connected socket.
  static func handshake(_ session: OpaquePointer, socket: Int32) -> Int32 { libssh2_session_handshake(session, socket) }

  /// The code of the session's last error (libssh2_session_last_errno).
  static func lastErrno(_ session: OpaquePointer) -> Int32 { libssh2_session_last_errno(session) }

  /// The session's last error, its message and its code (libssh2_session_last_error).
  static func lastError(_ session: OpaquePointer) -> (message: String, code: Int32) {
    var message: UnsafeMutablePointer<CChar>?
    var length: Int32 = 0
    let code = libssh2_session_last_error(session, &message, &length, 0)
    return (message.map { String(cString: $0) } ?? "unknown", code)
  }

  /// Which way the session is blocked (libssh2_session_block_directions).
  static func blockDirections(_ session: OpaquePointer) -> (inbound: Bool, outbound: Bool) {
    let directions = libssh2_session_block_directions(session)
    return (directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0, directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0)
  }

  /// Sends a keepalive if one is due (libssh2_keepalive_send).
  static func sendKeepalive(_ session: OpaquePointer) {
    var next: Int32 = 0
    _ = libssh2_keepalive_send(session, &next)
  }

  /// libssh2_session_disconnect_ex, as the application ending.
  static func disconnect(_ session: OpaquePointer) -> Int32 {
    libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "nexus-dr done", "")
  }

  /// libssh2_session_free.
  static func free(session: OpaquePointer) { libssh2_session_free(session) }

  // MARK: Host keys

  /// The key the host presented and libssh2's code for its type (libssh2_session_hostkey).
  static func hostKey(_ session: OpaquePointer) -> (bytes: [UInt8], type: Int32)? {
    var length = 0
    var type: Int32 = 0
    guard let key = libssh2_session_hostkey(session, &length, &type) else { return nil }
    return ([UInt8](UnsafeRawBufferPointer(start: key, count: length)), type)
  }

  /// A host-key type's OpenSSH name, and its known_hosts mask for `checkKnownHost`.
  static func keyType(_ type: Int32) -> (name: String, mask: Int32) {
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

  /// An empty known-hosts list (libssh2_knownhost_init); release it with `free(knownHosts:)`.
  static func newKnownHosts(_ session: OpaquePointer) -> OpaquePointer? { libssh2_knownhost_init(session) }

  /// libssh2_knownhost_free.
  static func free(knownHosts: OpaquePointer) { libssh2_knownhost_free(knownHosts) }

  /// Reads an OpenSSH known_hosts file into the list (libssh2_knownhost_readfile); false when it cannot.
  static func read(knownHosts: OpaquePointer, file: String) -> Bool {
    libssh2_knownhost_readfile(knownHosts, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH) >= 0
  }

  /// What the list says about `key` for `host:port`, plain or hashed entries alike.
  enum KnownHostVerdict {
    case match
    /// Another key of this type is known for the host: the base64 of that key, if libssh2 gave it.
    case mismatch(knownKey: String?)
    case notFound
  }

  /// libssh2_knownhost_checkp; nil when the check itself failed.
  static func checkKnownHost(
    _ knownHosts: OpaquePointer, host: String, port: Int, key: [UInt8], typeMask: Int32
  ) -> KnownHostVerdict? {
    var found: UnsafeMutablePointer<libssh2_knownhost>?
    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | typeMask
    let result = key.withUnsafeBufferPointer { bytes in
      bytes.withMemoryRebound(to: CChar.self) { pointer in
        libssh2_knownhost_checkp(knownHosts, host, Int32(port), pointer.baseAddress, pointer.count, mask, &found)
      }
    }
    switch result {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      return .mismatch(knownKey: found.flatMap { $0.pointee.key }.map { String(cString: $0) })
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND: return .notFound
    default: return nil
    }
  }

  // MARK: Authentication

  /// Public-key authentication with an unencrypted key file (libssh2_userauth_publickey_fromfile_ex).
  static func authenticate(_ session: OpaquePointer, user: String, keyFile: String) -> Int32 {
    libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, keyFile, nil)
  }

  /// One of the keys ssh-agent holds.
  struct AgentIdentity {
    fileprivate let key: UnsafeMutablePointer<libssh2_agent_publickey>
  }

  /// ssh-agent, connected, with its keys listed (libssh2_agent_init, _connect, _list_identities);
  /// nil when there is none to talk to. Release it with `free(agent:)`.
  static func connectedAgent(_ session: OpaquePointer) -> OpaquePointer? {
    guard let agent = libssh2_agent_init(session) else { return nil }
    guard libssh2_agent_connect(agent) == 0, libssh2_agent_list_identities(agent) == 0 else {
      free(agent: agent)
      return nil
    }
    return agent
  }

  /// The keys the agent listed (libssh2_agent_get_identity).
  static func identities(_ agent: OpaquePointer) -> [AgentIdentity] {
    var identities: [AgentIdentity] = []
    var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
    var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
    while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
      identities.append(AgentIdentity(key: current))
      previous = current
    }
    return identities
  }

  /// libssh2_agent_userauth with one of the agent's keys.
  static func authenticate(_ agent: OpaquePointer, user: String, identity: AgentIdentity) -> Int32 {
    libssh2_agent_userauth(agent, user, identity.key)
  }

  /// libssh2_agent_disconnect and libssh2_agent_free.
  static func free(agent: OpaquePointer) {
    libssh2_agent_disconnect(agent)
    libssh2_agent_free(agent)
  }

  // MARK: Channels

  /// A session channel (libssh2_channel_open_ex, 2 MiB window, 32 KiB packets); nil when it would block or failed.
  static func openChannel(_ session: OpaquePointer) -> OpaquePointer? {
    libssh2_channel_open_ex(session, "session", 7, 2 * 1024 * 1024, 32768, nil, 0)
  }

  /// Runs `commandLine` through the account's shell on the channel (libssh2_channel_process_startup, exec).
  static func exec(_ channel: OpaquePointer, _ commandLine: String) -> Int32 {
    libssh2_channel_process_startup(channel, "exec", 4, commandLine, UInt32(commandLine.utf8.count))
  }

  /// Writes to the channel's standard input (libssh2_channel_write_ex); bytes taken, or an error code.
  static func write(_ channel: OpaquePointer, _ bytes: UnsafeRawBufferPointer) -> Int {
    guard let base = bytes.baseAddress else { return 0 }
    return libssh2_channel_write_ex(channel, 0, base.assumingMemoryBound(to: CChar.self), bytes.count)
  }

  /// Reads stream 0 (stdout) or 1 (stderr) of the channel (libssh2_channel_read_ex); bytes read, or an error code.
  static func read(_ channel: OpaquePointer, stream: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    return libssh2_channel_read_ex(channel, stream, base.assumingMemoryBound(to: CChar.self), buffer.count)
  }

  /// Sends end-of-file on standard input (libssh2_channel_send_eof).
  static func sendEOF(_ channel: OpaquePointer) -> Int32 { libssh2_channel_send_eof(channel) }

  /// Waits for the host's end-of-file (libssh2_channel_wait_eof).
  static func waitEOF(_ channel: OpaquePointer) -> Int32 { libssh2_channel_wait_eof(channel) }

  /// Whether the host sent end-of-file (libssh2_channel_eof).
  static func isAtEOF(_ channel: OpaquePointer) -> Bool { libssh2_channel_eof(channel) != 0 }

  /// Waits for the host to close the channel (libssh2_channel_wait_closed).
  static func waitClosed(_ channel: OpaquePointer) -> Int32 { libssh2_channel_wait_closed(channel) }

  /// libssh2_channel_close.
  static func close(_ channel: OpaquePointer) -> Int32 { libssh2_channel_close(channel) }

  /// The command's exit status (libssh2_channel_get_exit_status).
  static func exitStatus(_ channel: OpaquePointer) -> Int32 { libssh2_channel_get_exit_status(channel) }

  /// The signal that ended the command, named as the host names it (libssh2_channel_get_exit_signal).
  static func exitSignal(_ channel: OpaquePointer, session: OpaquePointer) -> String? {
    var name: UnsafeMutablePointer<CChar>?
    var length = 0
    guard libssh2_channel_get_exit_signal(channel, &name, &length, nil, nil, nil, nil) == 0, let name else {
      return nil
    }
    // libssh2 allocated it (LIBSSH2_ALLOC): its own free, not the C library's.
    defer { libssh2_free(session, name) }
    return length > 0 ? String(cString: name) : nil
  }

  /// libssh2_channel_free.
  static func free(channel: OpaquePointer) { libssh2_channel_free(channel) }

  // MARK: SCP

  /// A channel that takes `size` bytes into `path` with `mode` (libssh2_scp_send64); nil when it would block or failed.
  static func scpSend(_ session: OpaquePointer, path: String, mode: Int32, size: Int64) -> OpaquePointer? {
    libssh2_scp_send64(session, path, mode & 0o777, size, 0, 0)
  }

  /// A channel that gives `path`'s bytes, and the size the host announced (libssh2_scp_recv2);
  /// nil when it would block or failed.
  static func scpReceive(_ session: OpaquePointer, path: String) -> (channel: OpaquePointer, size: Int64)? {
    var info = libssh2_struct_stat()
    guard let channel = libssh2_scp_recv2(session, path, &info) else { return nil }
    return (channel, Int64(info.st_size))
  }
}
