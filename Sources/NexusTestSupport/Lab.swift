import Foundation
import NexusCore
import NexusTransport

/// The lab as the tests see it: read from `$NEXUS_LAB_DIR/lab.env`, which
/// `scripts/lab up` writes last, once every host answers.
///
/// Lab tests call ``Lab/require()``: when the lab is down they fail with a
/// message saying how to start it. They never skip.
public struct Lab: Sendable {
  public struct Unavailable: Error, CustomStringConvertible {
    public var description: String
  }

  public let directory: String
  public let values: [String: String]

  public static var directoryPath: String {
    ProcessInfo.processInfo.environment["NEXUS_LAB_DIR"] ?? "/var/lib/nexus-lab"
  }

  public static func require() throws -> Lab {
    let directory = directoryPath
    let file = directory + "/lab.env"
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
      throw Unavailable(
        description:
          "the lab is not up (\(file) is missing): run `sudo scripts/lab up`, or `scripts/test`, which starts it")
    }
    var values: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return Lab(directory: directory, values: values)
  }

  public func value(_ key: String) throws -> String {
    guard let value = values[key], !value.isEmpty else {
      throw Unavailable(description: "lab.env has no \(key); rerun `sudo scripts/lab reset`")
    }
    return value
  }

  public var inventoryPath: String { values["INVENTORY"] ?? directory + "/inventory.yaml" }
  public var knownHosts: String { values["KNOWN_HOSTS"] ?? directory + "/ssh/known_hosts" }
  public var identity: String { values["SSH_IDENTITY"] ?? directory + "/ssh/id_ed25519" }
  public var pgpassFile: String { values["PGPASSFILE"] ?? directory + "/pgpass" }

  /// The lab environment from the rendered inventory.
  public func environment() throws -> Environment {
    try InventoryLoader.load(file: inventoryPath).environment("lab")
  }

  /// An address in the lab's subnet where no host answers.
  public func unusedAddress() throws -> String { try value("LAB_NET") + ".99" }

  /// A fresh SSH transport to a lab host, with the lab's keys unless others are given.
  /// For a session used in a scope, ``withSSH(_:knownHosts:identity:connectTimeout:isolation:_:)``.
  public func ssh(
    _ host: String, knownHosts: String? = nil, identity: String? = nil, connectTimeout: Duration = .seconds(5)
  ) throws -> SSHTransport {
    let (target, settings) = try sshEndpoint(
      host, knownHosts: knownHosts, identity: identity, connectTimeout: connectTimeout)
    return SSHTransport(host: host, target: target, settings: settings)
  }

  /// An SSH transport to a lab host for the time of `body`: its session is closed when `body`
  /// returns or throws.
  @discardableResult
  public func withSSH<Result>(
    _ host: String, knownHosts: String? = nil, identity: String? = nil, connectTimeout: Duration = .seconds(5),
    isolation: isolated (any Actor)? = #isolation, _ body: (SSHTransport) async throws -> Result
  ) async throws -> Result {
    let (target, settings) = try sshEndpoint(
      host, knownHosts: knownHosts, identity: identity, connectTimeout: connectTimeout)
    return try await SSHTransport.with(host: host, target: target, settings: settings, body)
  }

  private func sshEndpoint(
    _ host: String, knownHosts: String?, identity: String?, connectTimeout: Duration
  ) throws -> (SSHTransport.Target, SSHSettings) {
    let environment = try environment()
    guard case .ssh(let address, let port, let user) = environment.host(host)?.transport else {
      throw Unavailable(description: "the lab inventory has no SSH host '\(host)'")
    }
    return (
      .init(address: address, port: port, user: user),
      SSHSettings(
        identity: identity ?? self.identity, knownHosts: knownHosts ?? self.knownHosts, connectTimeout: connectTimeout)
    )
  }

  /// A libpq conninfo for the lab database; the password comes from the lab's pgpass file.
  public func conninfo(user: String = "postgres", database: String = "nexus") throws -> String {
    "host=\(try value("PGHOST")) port=\(values["PGPORT"] ?? "5432") dbname=\(database) user=\(user) passfile=\(pgpassFile)"
  }

  /// This repository's root (the tests run its runbooks, fixtures and scripts).
  public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

  /// Runs `scripts/lab ARGUMENTS` (nas-down, nas-up, nas-fill …) of this repository; fails on a non-zero exit.
  public func command(_ arguments: [String]) async throws {
    try await Self.command(arguments)
  }

  /// `scripts/lab ARGUMENTS` without a lab at hand (`up`, `reset`).
  public static func command(_ arguments: [String]) async throws {
    let script = repository + "/scripts/lab"
    _ = try await LocalTransport().runChecked(.argv([script] + arguments, timeout: .seconds(900)))
  }

  /// Lines of a host's sshd log (it logs each accepted authentication).
  public func sshdLog(_ hostname: String) -> String {
    (try? String(contentsOfFile: "\(directory)/hosts/\(hostname)/sshd.log", encoding: .utf8)) ?? ""
  }
}
