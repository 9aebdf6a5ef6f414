import Foundation
import NexusCore
import NexusTransport

/// The lab as the bench uses it: `$NEXUS_LAB_DIR/lab.env` (written by `scripts/lab up`), the
/// lab inventory, and SSH sessions to its hosts. The bench's own, so that the executable does
/// not link the test-support library.
struct BenchLab {
  let directory: String
  let values: [String: String]

  struct Unavailable: Error, CustomStringConvertible {
    var description: String
  }

  static func require() throws -> BenchLab {
    let directory = ProcessInfo.processInfo.environment["NEXUS_LAB_DIR"] ?? "/var/lib/nexus-lab"
    let file = directory + "/lab.env"
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
      throw Unavailable(description: "the lab is not up (\(file) is missing): run `sudo scripts/lab up`")
    }
    var values: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return BenchLab(directory: directory, values: values)
  }

  func value(_ key: String) throws -> String {
    guard let value = values[key], !value.isEmpty else {
      throw Unavailable(description: "lab.env has no \(key); rerun `sudo scripts/lab reset`")
    }
    return value
  }

  var knownHosts: String { values["KNOWN_HOSTS"] ?? directory + "/ssh/known_hosts" }
  var identity: String { values["SSH_IDENTITY"] ?? directory + "/ssh/id_ed25519" }

  /// The lab environment from the rendered inventory.
  func environment() throws -> Environment {
    try InventoryLoader.load(file: values["INVENTORY"] ?? directory + "/inventory.yaml").environment("lab")
  }

  /// The lab inventory's database.
  func database() throws -> DatabaseSpec {
    guard let database = try environment().database else {
      throw Unavailable(description: "the lab inventory has no database")
    }
    return database
  }

  /// An SSH session to a lab host, with the lab's keys, for the time of `body`.
  func withSSH<Result>(
    _ host: String, isolation: isolated (any Actor)? = #isolation, _ body: (SSHTransport) async throws -> Result
  ) async throws -> Result {
    guard case .ssh(let address, let port, let user) = try environment().host(host)?.transport else {
      throw Unavailable(description: "the lab inventory has no SSH host '\(host)'")
    }
    return try await SSHTransport.with(
      host: host, target: .init(address: address, port: port, user: user),
      settings: SSHSettings(identity: identity, knownHosts: knownHosts, connectTimeout: .seconds(5)), body)
  }
}

/// A temporary directory for one measurement, removed when it goes away.
final class BenchScratch {
  let path: String

  init() throws {
    path = "\(FileManager.default.temporaryDirectory.path)/nexus-bench-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
  }

  func file(_ name: String) -> String { "\(path)/\(name)" }

  func write(_ name: String, _ text: String) throws -> String {
    try text.write(toFile: file(name), atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file(name))
    return file(name)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}
