import NexusCore
import Testing

@Suite("--host overrides")
struct HostOverrideTests {
  let production: Environment

  init() throws {
    production = try InventoryLoader.parse(designInventory).environment(nil)
  }

  @Test("forms: address, address:port, user@address:port, [IPv6]:port, local; port and user default to the inventory's")
  func forms() throws {
    #expect(
      try HostOverride.parse("gate=10.0.0.7", environment: production).transport
        == .ssh(address: "10.0.0.7", port: 22, user: "root"))
    #expect(
      try HostOverride.parse("gate=10.0.0.7:2222", environment: production).transport
        == .ssh(address: "10.0.0.7", port: 2222, user: "root"))
    #expect(
      try HostOverride.parse("server=admin@new-server:22", environment: production).transport
        == .ssh(address: "new-server", port: 22, user: "admin"))
    #expect(
      try HostOverride.parse("gate=[fd00::7]:22", environment: production).transport
        == .ssh(address: "fd00::7", port: 22, user: "root"))
    #expect(
      try HostOverride.parse("gate=fd00::7", environment: production).transport
        == .ssh(address: "fd00::7", port: 22, user: "root"))
    #expect(try HostOverride.parse("gate=local", environment: production).transport == .local)
    let override = try HostOverride.parse("server=10.0.0.9", environment: production)
    #expect(override.description == "server=root@10.0.0.9:22")
    #expect(
      try HostOverride.parse(override.description, environment: production) == override,
      "the journal's form parses back to the same")
    let applied = production.applying([override])
    #expect(applied.host("server")?.transport == .ssh(address: "10.0.0.9", port: 22, user: "root"))
    #expect(applied.host("gate")?.transport == production.host("gate")?.transport, "other hosts unchanged")
  }

  @Test(
    "bad overrides are refused with what was wrong",
    arguments: [
      ("nas=10.0.0.1", "no host 'nas'"), ("gate", "not NAME=TARGET"), ("=x", "not NAME=TARGET"),
      ("gate=10.0.0.1:99999", "not a port"), ("gate=10.0.0.1:ssh", "not a port"), ("gate=a b", "not a host name"),
      ("gate=[fd00::1", "needs its ]"), ("gate=@10.0.0.1", "not a user name"), ("gate=", "not a host name"),
    ])
  func refused(text: String, message: String) {
    do {
      _ = try HostOverride.parse(text, environment: production)
      Issue.record("'\(text)' was accepted")
    } catch {
      #expect(error.description.contains(message), "\(error.description)")
      #expect(error.description.hasPrefix("--host"), "the error names where it came from")
    }
  }
}

@Suite("--host overrides: the database and resume")
struct HostOverrideDatabaseTests {
  @Test("the database moves with its host when it is reached at that host's address; a socket stays")
  func databaseFollows() throws {
    let text = designInventory.replacingOccurrences(
      of: "server:       { transport: local }", with: "server:       { address: 10.0.0.10 }"
    )
    .replacingOccurrences(of: "host: /var/run/postgresql", with: "host: 10.0.0.10")
    let environment = try InventoryLoader.parse(text).environment(nil)
    let moved = environment.applying([try HostOverride.parse("server=10.0.0.42", environment: environment)])
    #expect(moved.database?.host == "10.0.0.42")
    let production = try InventoryLoader.parse(designInventory).environment(nil)
    let socket = production.applying([try HostOverride.parse("server=10.0.0.42", environment: production)])
    #expect(socket.database?.host == "/var/run/postgresql")
  }

  @Test("resume: a --host given again replaces that host's override only")
  func merge() {
    #expect(
      Environment.merge(recorded: ["server=root@a:22", "gate=root@b:22"], given: ["server=root@c:22"]) == [
        "gate=root@b:22", "server=root@c:22",
      ])
    #expect(Environment.merge(recorded: ["gate=root@b:22"], given: []) == ["gate=root@b:22"])
  }
}
