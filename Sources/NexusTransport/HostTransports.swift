import NexusCore
import Synchronization

/// The transports of one run: one per host, created on first use and reused for
/// every command, so each SSH host costs one connection and one authentication.
public final class HostTransports: Sendable {
  public let environment: Environment
  private let transports = Mutex<[String: any Transport]>([:])
  private let make: @Sendable (HostSpec, SSHSettings) -> any Transport

  public convenience init(environment: Environment) {
    self.init(environment: environment, make: Self.makeTransport)
  }

  /// Transports made by `make` instead of local and SSH ones (in-memory transports, in tests).
  public init(environment: Environment, make: @escaping @Sendable (HostSpec, SSHSettings) -> any Transport) {
    self.environment = environment
    self.make = make
  }

  /// The transport for a host role (`server`, `gate`).
  public func transport(for hostName: String) throws(TransportError) -> any Transport {
    guard let spec = environment.host(hostName) else {
      throw TransportError(
        .localFailure, host: hostName,
        detail: "environment '\(environment.name)' has no host '\(hostName)'",
        hint: "hosts here: \(environment.hosts.map(\.name).joined(separator: ", "))")
    }
    return transports.withLock { cache in
      if let existing = cache[hostName] { return existing }
      let created = make(spec, environment.ssh)
      cache[hostName] = created
      return created
    }
  }

  @Sendable static func makeTransport(_ spec: HostSpec, ssh: SSHSettings) -> any Transport {
    switch spec.transport {
    case .local:
      return LocalTransport(host: spec.name)
    case .ssh(let address, let port, let user):
      return SSHTransport(host: spec.name, target: .init(address: address, port: port, user: user), settings: ssh)
    }
  }

  /// Closes every session.
  public func closeAll() async {
    let all = transports.withLock { cache in
      defer { cache.removeAll() }
      return Array(cache.values)
    }
    for transport in all { await transport.close() }
  }
}
