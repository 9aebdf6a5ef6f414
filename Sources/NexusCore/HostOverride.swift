/// `--host NAME=…`: for one run, a host reached elsewhere than the inventory says —
/// the new server's address during server-failure, or nexus-dr running on the
/// machine being rebuilt (`NAME=local`). The run's journal and report record it.
///
/// Forms: `NAME=local`, `NAME=ADDRESS`, `NAME=ADDRESS:PORT`, `NAME=USER@ADDRESS[:PORT]`,
/// `NAME=[IPv6]:PORT`. The port and user default to the inventory's for that host
/// (22 and root when the inventory has it as local).
public struct HostOverride: Sendable, Hashable, CustomStringConvertible {
  public var name: String
  public var transport: HostSpec.Transport

  public init(name: String, transport: HostSpec.Transport) {
    self.name = name
    self.transport = transport
  }

  public static func parse(_ text: String, environment: Environment) throws(ConfigError) -> HostOverride {
    func invalid(_ message: String, hint: String? = nil) -> ConfigError {
      ConfigError(
        .invalidValue, file: "--host", message: message,
        hint: hint ?? "write NAME=ADDRESS[:PORT], NAME=USER@ADDRESS[:PORT] or NAME=local")
    }
    guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
      throw invalid("'\(text)' is not NAME=TARGET")
    }
    let name = String(text[..<equals])
    var target = String(text[text.index(after: equals)...])
    guard let current = environment.host(name) else {
      throw ConfigError(
        .unknownHost, file: "--host", message: "environment \(environment.name) has no host '\(name)'",
        hint: "its hosts: \(environment.hosts.map(\.name).joined(separator: ", "))")
    }
    if target == "local" { return HostOverride(name: name, transport: .local) }
    var (port, user) = (22, "root")
    if case .ssh(_, let inventoryPort, let inventoryUser) = current.transport {
      (port, user) = (inventoryPort, inventoryUser)
    }
    if let at = target.lastIndex(of: "@") {
      user = String(target[..<at])
      target = String(target[target.index(after: at)...])
      guard !user.isEmpty, user.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
        throw invalid("'\(user)' is not a user name")
      }
    }
    var address = target
    if target.hasPrefix("[") {
      guard let close = target.firstIndex(of: "]") else {
        throw invalid("'\(target)': an IPv6 address in [ ] needs its ]")
      }
      address = String(target[target.index(after: target.startIndex)..<close])
      let rest = target[target.index(after: close)...]
      if !rest.isEmpty {
        guard rest.hasPrefix(":"), let parsed = Int(rest.dropFirst()), (1...65535).contains(parsed) else {
          throw invalid("'\(rest)' is not :PORT")
        }
        port = parsed
      }
    } else if let colon = target.lastIndex(of: ":"), target.filter({ $0 == ":" }).count == 1 {
      address = String(target[..<colon])
      guard let parsed = Int(target[target.index(after: colon)...]), (1...65535).contains(parsed) else {
        throw invalid("'\(target[target.index(after: colon)...])' is not a port (1-65535)")
      }
      port = parsed
    }
    guard !address.isEmpty, address.allSatisfy({ $0.isLetter || $0.isNumber || ".-:".contains($0) }) else {
      throw invalid("'\(address)' is not a host name or address")
    }
    return HostOverride(name: name, transport: .ssh(address: address, port: port, user: user))
  }

  public var description: String {
    switch transport {
    case .local: "\(name)=local"
    case .ssh(let address, let port, let user):
      "\(name)=\(user)@\(address.contains(":") ? "[\(address)]" : address):\(port)"
    }
  }
}

extension Environment {
  /// This environment with the overrides' transports in place of the inventory's. When
  /// `database.host` is the overridden host's inventory address, the database moves with
  /// it (the new server's PostgreSQL is at the new address).
  public func applying(_ overrides: [HostOverride]) -> Environment {
    var copy = self
    for override in overrides {
      guard let index = copy.hosts.firstIndex(where: { $0.name == override.name }) else { continue }
      if case .ssh(let old, _, _) = copy.hosts[index].transport, case .ssh(let new, _, _) = override.transport,
        copy.database?.host == old
      {
        copy.database?.host = new
      }
      copy.hosts[index].transport = override.transport
    }
    return copy
  }

  /// `recorded` with `given` in place, by host name (a resume that changes one override keeps the others).
  public static func merge(recorded: [String], given: [String]) -> [String] {
    func name(_ text: String) -> Substring { text.prefix { $0 != "=" } }
    let replaced = Set(given.map(name))
    return recorded.filter { !replaced.contains(name($0)) } + given
  }
}
