import Foundation
import NexusCore

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
      for address in endpoints(host, resolve: resolve, ownAddresses: ownAddresses) where productionHosts[address] == nil
      {
        productionHosts[address] = host.name
      }
    }
    for host in environment.hosts {
      let mine = endpoints(host, resolve: resolve, ownAddresses: ownAddresses)
      if let hit = mine.sorted().first(where: { productionHosts[$0] != nil }), let production = productionHosts[hit] {
        refusals.append(
          "\(environment.name)'s host '\(host.name)' (\(describe(host))) is production's '\(production)' (both \(hit == "this machine" ? "run here" : "reach \(hit)"))"
        )
      }
    }
    if let database = environment.database, let productionDatabase = production.database {
      let mine = databaseEndpoints(database, environment: environment, resolve: resolve, ownAddresses: ownAddresses)
      let theirs = databaseEndpoints(
        productionDatabase, environment: production, resolve: resolve, ownAddresses: ownAddresses)
      if let hit = mine.intersection(theirs).sorted().first {
        refusals.append(
          "\(environment.name)'s database (\(database.host), port \(database.port ?? 5432)) is production's (\(hit))")
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
  static func databaseEndpoints(
    _ database: DatabaseSpec, environment: Environment, resolve: (String) -> Set<String>,
    ownAddresses: Set<String>
  ) -> Set<String> {
    let port = database.port ?? 5432
    var hosts: Set<String>
    if database.host.hasPrefix("/") || database.host == "localhost" || database.host == "127.0.0.1" {
      hosts =
        environment.host("server").map { endpoints($0, resolve: resolve, ownAddresses: ownAddresses) } ?? [
          "this machine"
        ]
    } else {
      let resolved = resolve(database.host)
      hosts = resolved.isEmpty ? [database.host.lowercased()] : resolved
      if !hosts.isDisjoint(with: ownAddresses) { hosts.insert("this machine") }
    }
    return Set(hosts.map { "\($0):\(port)" })
  }

  /// The addresses a name resolves to (numeric, both families); empty when it does not resolve.
  public static func resolve(_ name: String) -> Set<String> {
    POSIX.addresses(resolving: name)
  }

  /// This machine's own addresses (every interface, loopback included).
  public static func ownAddresses() -> Set<String> {
    Set(["127.0.0.1", "::1"]).union(POSIX.interfaceAddresses())
  }
}
