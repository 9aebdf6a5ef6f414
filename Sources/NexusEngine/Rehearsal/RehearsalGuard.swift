import Foundation
import NexusCore

#if canImport(Glibc)
  import Glibc
#endif

/// A rehearsal breaks things on purpose, so it must never reach production: not the
/// environment named `production`, and not an environment any of whose hosts or whose
/// database is one of production's (compared by resolved address, so a staging entry that
/// names production's server by another name or by its IP is caught).
public enum RehearsalGuard {
  /// Why `environment` may not be rehearsed; empty when it may.
  public static func refusals(
    environment: Environment, inventory: Inventory, resolve: (String) -> Set<String> = resolve,
    ownAddresses: Set<String> = ownAddresses()
  ) -> [String] {
    if environment.name == "production" {
      return ["'production' is never rehearsed: a rehearsal breaks what it rehearses (use --env staging or --env lab)"]
    }
    guard let production = inventory.environments["production"] else { return [] }
    var refusals: [String] = []
    // Every place production lives: its hosts' addresses, and this machine when it runs there.
    var productionHosts: [String: String] = [:]  // address -> production host role
    for host in production.hosts {
      for address in endpoints(host, resolve: resolve, ownAddresses: ownAddresses) where productionHosts[address] == nil {
        productionHosts[address] = host.name
      }
    }
    for host in environment.hosts {
      let mine = endpoints(host, resolve: resolve, ownAddresses: ownAddresses)
      if let hit = mine.sorted().first(where: { productionHosts[$0] != nil }) {
        refusals.append(
          "\(environment.name)'s host '\(host.name)' (\(describe(host))) is production's '\(productionHosts[hit]!)' (both \(hit == "this machine" ? "run here" : "reach \(hit)"))")
      }
    }
    if let database = environment.database, let productionDatabase = production.database {
      let mine = databaseEndpoints(database, environment: environment, resolve: resolve, ownAddresses: ownAddresses)
      let theirs = databaseEndpoints(productionDatabase, environment: production, resolve: resolve, ownAddresses: ownAddresses)
      if let hit = mine.intersection(theirs).sorted().first {
        refusals.append("\(environment.name)'s database (\(database.host), port \(database.port ?? 5432)) is production's (\(hit))")
      }
    }
    return refusals
  }

  static func describe(_ host: HostSpec) -> String {
    switch host.transport {
    case .local: "local"
    case .ssh(let address, let port, _): port == 22 ? address : "\(address):\(port)"
    }
  }

  /// A host's addresses; `this machine` for the local transport or an address of this machine.
  static func endpoints(_ host: HostSpec, resolve: (String) -> Set<String>, ownAddresses: Set<String>) -> Set<String> {
    switch host.transport {
    case .local: return ["this machine"]
    case .ssh(let address, _, _):
      let resolved = resolve(address)
      var result = resolved.isEmpty ? [address.lowercased()] : resolved
      if !result.isDisjoint(with: ownAddresses) { result.insert("this machine") }
      return result
    }
  }

  /// A database's endpoints as `address:port`; a socket directory is on the server's host
  /// (or on this machine when the server is local).
  static func databaseEndpoints(_ database: DatabaseSpec, environment: Environment, resolve: (String) -> Set<String>,
    ownAddresses: Set<String>) -> Set<String> {
    let port = database.port ?? 5432
    var hosts: Set<String>
    if database.host.hasPrefix("/") || database.host == "localhost" || database.host == "127.0.0.1" {
      hosts = environment.host("server").map { endpoints($0, resolve: resolve, ownAddresses: ownAddresses) } ?? ["this machine"]
    } else {
      let resolved = resolve(database.host)
      hosts = resolved.isEmpty ? [database.host.lowercased()] : resolved
      if !hosts.isDisjoint(with: ownAddresses) { hosts.insert("this machine") }
    }
    return Set(hosts.map { "\($0):\(port)" })
  }

  /// The addresses a name resolves to (numeric, both families); empty when it does not resolve.
  public static func resolve(_ name: String) -> Set<String> {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return [] }
    defer { freeaddrinfo(first) }
    var result: Set<String> = []
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    while let entry = cursor {
      if let text = numeric(entry.pointee.ai_addr, length: entry.pointee.ai_addrlen) { result.insert(text) }
      cursor = entry.pointee.ai_next
    }
    return result
  }

  /// This machine's own addresses (every interface, loopback included).
  public static func ownAddresses() -> Set<String> {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return ["127.0.0.1", "::1"] }
    defer { freeifaddrs(first) }
    var result: Set<String> = ["127.0.0.1", "::1"]
    var cursor: UnsafeMutablePointer<ifaddrs>? = first
    while let entry = cursor {
      if let address = entry.pointee.ifa_addr {
        let family = Int32(address.pointee.sa_family)
        let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        if family == AF_INET || family == AF_INET6, let text = numeric(address, length: length) { result.insert(text) }
      }
      cursor = entry.pointee.ifa_next
    }
    return result
  }

  static func numeric(_ address: UnsafeMutablePointer<sockaddr>?, length: socklen_t) -> String? {
    guard let address else { return nil }
    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // A link-local IPv6 address carries its interface (`fe80::1%eth0`): compare the address.
    return text.split(separator: "%").first.map(String.init)
  }
}
