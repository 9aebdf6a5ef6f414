import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension POSIX {
  /// One address a name resolved to, as `getaddrinfo` gives it: what `socket` and `connect` need.
  public struct SocketAddress: Sendable, Hashable {
    public var family: CInt
    public var socketType: CInt
    public var protocolNumber: CInt
    /// The `sockaddr` itself.
    var bytes: [UInt8]

    /// The address in numeric form (`10.0.0.2`, `fe80::1%eth0`), or nil when it has none.
    ///
    /// The corresponding C function is `getnameinfo` (with `NI_NUMERICHOST`).
    public var numericHost: String? {
      var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
      let status = bytes.withUnsafeBytes { raw in
        getnameinfo(
          raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count),
          &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
      }
      guard status == 0 else { return nil }
      return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
  }

  /// Why a name did not resolve: `getaddrinfo`'s status and its text.
  public struct ResolutionError: Error, Sendable, CustomStringConvertible {
    public var status: CInt
    public var description: String
  }

  /// The stream-socket addresses of `name` (IPv4 and IPv6) with `port`, in `getaddrinfo`'s order.
  ///
  /// The corresponding C functions are `getaddrinfo`, `gai_strerror` and `freeaddrinfo`.
  public static func streamAddresses(of name: String, port: Int? = nil) throws(ResolutionError) -> [SocketAddress] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(name, port.map(String.init), &hints, &list)
    guard status == 0 else {
      throw ResolutionError(status: status, description: String(cString: gai_strerror(status)))
    }
    defer { freeaddrinfo(list) }
    var addresses: [SocketAddress] = []
    var entry = list
    while let info = entry?.pointee {
      entry = info.ai_next
      guard let address = info.ai_addr else { continue }
      addresses.append(
        SocketAddress(
          family: info.ai_family, socketType: info.ai_socktype, protocolNumber: info.ai_protocol,
          bytes: Array(UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen)))))
    }
    return addresses
  }

  /// Why no TCP connection could be made.
  public enum ConnectError: Error, Sendable {
    /// An address took the connection attempt and did not answer before the deadline.
    case timedOut
    /// Every address failed; the last one's reason (nil: there was no address to try).
    case failed(Errno?)
  }

  /// A non-blocking stream socket connected to the first of `addresses` that accepts, in
  /// order, before `deadline`. `configure` sets the socket's options before it connects.
  /// An address that takes the attempt and stays silent until the deadline ends the search
  /// (the time is spent); one that refuses at once lets the next be tried.
  ///
  /// The corresponding C functions are `socket`, `fcntl` (`O_NONBLOCK`), `connect`, `poll`
  /// and `getsockopt` (`SO_ERROR`).
  public static func connect(
    to addresses: [SocketAddress], deadline: ContinuousClock.Instant, configure: (FileDescriptor) -> Void
  ) throws(ConnectError) -> FileDescriptor {
    var lastProblem: Errno?
    for address in addresses {
      let socket: FileDescriptor
      do {
        socket = FileDescriptor(
          rawValue: try once { Glibc.socket(address.family, address.socketType, address.protocolNumber) })
      } catch {
        lastProblem = error
        continue
      }
      _ = fcntl(socket.rawValue, F_SETFL, fcntl(socket.rawValue, F_GETFL) | O_NONBLOCK)
      configure(socket)
      let status = address.bytes.withUnsafeBytes { raw in
        Glibc.connect(socket.rawValue, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
      }
      if status == 0 { return socket }
      let failure = Errno(rawValue: Glibc.errno)
      guard failure == .nowInProgress else {
        lastProblem = failure
        try? socket.close()
        continue
      }
      guard wait(socket, for: .writable, timeout: deadline - .now) else {
        try? socket.close()
        throw .timedOut
      }
      var socketError: CInt = 0
      var length = socklen_t(MemoryLayout<CInt>.size)
      _ = getsockopt(socket.rawValue, SOL_SOCKET, SO_ERROR, &socketError, &length)
      if socketError == 0 { return socket }
      lastProblem = Errno(rawValue: socketError)
      try? socket.close()
    }
    throw .failed(lastProblem)
  }

  /// A socket option nexus-dr sets.
  public enum SocketOption: Sendable {
    /// Send small writes at once instead of waiting to fill a segment (`TCP_NODELAY`).
    case noDelay
    /// Probe an idle connection (`SO_KEEPALIVE`).
    case keepAlive
    /// Idle time before the first probe (`TCP_KEEPIDLE`).
    case keepAliveIdle(seconds: CInt)
    /// Time between probes (`TCP_KEEPINTVL`).
    case keepAliveInterval(seconds: CInt)
    /// Unanswered probes before the connection is broken (`TCP_KEEPCNT`).
    case keepAliveCount(CInt)
    /// How long sent data may stay unacknowledged before the connection is broken (`TCP_USER_TIMEOUT`).
    case userTimeout(milliseconds: UInt32)
  }

  /// Sets one option on a socket.
  ///
  /// The corresponding C function is `setsockopt`.
  public static func set(_ option: SocketOption, on socket: FileDescriptor) throws(Errno) {
    func set<Value: BitwiseCopyable>(_ level: CInt, _ name: CInt, _ value: Value) throws(Errno) {
      var value = value
      try once { setsockopt(socket.rawValue, level, name, &value, socklen_t(MemoryLayout<Value>.size)) }
    }
    let tcp = CInt(IPPROTO_TCP)
    switch option {
    case .noDelay: try set(tcp, TCP_NODELAY, CInt(1))
    case .keepAlive: try set(SOL_SOCKET, SO_KEEPALIVE, CInt(1))
    case .keepAliveIdle(let seconds): try set(tcp, TCP_KEEPIDLE, seconds)
    case .keepAliveInterval(let seconds): try set(tcp, TCP_KEEPINTVL, seconds)
    case .keepAliveCount(let count): try set(tcp, TCP_KEEPCNT, count)
    case .userTimeout(let milliseconds): try set(tcp, TCP_USER_TIMEOUT, milliseconds)
    }
  }

  /// The directions `wait` waits for.
  public struct Readiness: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let readable = Readiness(rawValue: Int16(POLLIN))
    public static let writable = Readiness(rawValue: Int16(POLLOUT))
  }

  /// Waits up to `timeout` for `socket` to be ready in one of `directions`; true when it is (or
  /// has an error or a hang-up to report), false when the time passed or the wait failed.
  ///
  /// The corresponding C function is `poll`.
  @discardableResult
  public static func wait(_ socket: FileDescriptor, for directions: Readiness, timeout: Duration) -> Bool {
    var entry = pollfd(fd: socket.rawValue, events: directions.rawValue, revents: 0)
    return poll(&entry, 1, CInt(clamping: max(0, timeout.milliseconds))) > 0
  }
}
