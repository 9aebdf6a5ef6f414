#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The process: its terminal, its signals, its exit; and the addresses of this machine and of
// a host name, which the rehearsal guard compares.
extension POSIX {
  /// Standard input's file descriptor (`STDIN_FILENO`).
  public static let standardInput: Int32 = STDIN_FILENO

  /// Standard output's file descriptor (`STDOUT_FILENO`).
  public static let standardOutput: Int32 = STDOUT_FILENO

  /// Whether `descriptor` is a terminal. Wraps `isatty(3)`.
  public static func isTerminal(_ descriptor: Int32) -> Bool {
    isatty(descriptor) == 1
  }

  /// The signals that stop a run: `SIGINT` (Ctrl-C) and `SIGTERM` (systemd, `kill`).
  public static let interruptSignals: [Int32] = [SIGINT, SIGTERM]

  /// Ignores the signal `number`, so that only a dispatch source watching it sees it.
  /// Wraps `signal(2)` with `SIG_IGN`.
  public static func ignore(signal number: Int32) {
    _ = signal(number, SIG_IGN)
  }

  /// Ends the process with `status` (standard output flushed). Wraps `exit(3)`.
  public static func exit(_ status: Int32) -> Never {
    #if canImport(Glibc)
    Glibc.exit(status)
    #else
    Darwin.exit(status)
    #endif
  }

  /// The numeric addresses `name` resolves to (both families); empty when it does not resolve.
  /// Wraps `getaddrinfo(3)`.
  public static func addresses(resolving name: String) -> Set<String> {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return [] }
    defer { freeaddrinfo(first) }
    var result: Set<String> = []
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    while let entry = cursor {
      if let text = numericHost(entry.pointee.ai_addr, length: entry.pointee.ai_addrlen) { result.insert(text) }
      cursor = entry.pointee.ai_next
    }
    return result
  }

  /// The IPv4 and IPv6 addresses of this machine's interfaces; empty when they cannot be read.
  /// Wraps `getifaddrs(3)`.
  public static func interfaceAddresses() -> Set<String> {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return [] }
    defer { freeifaddrs(first) }
    var result: Set<String> = []
    var cursor: UnsafeMutablePointer<ifaddrs>? = first
    while let entry = cursor {
      if let address = entry.pointee.ifa_addr {
        let family = Int32(address.pointee.sa_family)
        let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        if family == AF_INET || family == AF_INET6, let text = numericHost(address, length: length) {
          result.insert(text)
        }
      }
      cursor = entry.pointee.ifa_next
    }
    return result
  }

  /// An address as text. Wraps `getnameinfo(3)` with `NI_NUMERICHOST`.
  private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>?, length: socklen_t) -> String? {
    guard let address else { return nil }
    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
      return nil
    }
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // A link-local IPv6 address carries its interface (`fe80::1%eth0`): compare the address.
    return text.split(separator: "%").first.map(String.init)
  }
}
