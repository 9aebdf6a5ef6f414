import NexusCore
import Testing

/// The design's example inventory, which must load as it is.
let designInventory = """
  default: production
  environments:
    production:
      hosts:
        server:       { transport: local }
        gate:         { address: nexus-gate, user: root }
        gate-standby: { address: nexus-gate-2, user: root, optional: true }
      ssh:          { identity: /etc/nexus-dr/id_ed25519, known_hosts: /etc/nexus-dr/known_hosts }
      database:     { name: nexus, host: /var/run/postgresql, backup_role: nexus_backup }
      nas:          { path: /mnt/nas/nexus-backup, fallback: /var/backups/nexus-fallback, min_free: 20GiB }
      attachments:  /var/nexus/attachments
      config:       { server: [/etc/nexus, /etc/systemd/system/nexus-*, /etc/postgresql, /etc/ufw],
                      gate: [/etc/wireguard, /etc/ufw], exclude: ["*.key", "*.pem", "secrets/"] }
      services:     [nexus-api, nexus-sync]
      retention:    { daily: 7, wal_days: 14, base_backups: 3, clarity_days: 30 }
      objectives:   { rto: 2h, rpo: 5m }
  """

@Suite("Inventory")
struct InventoryTests {
  @Test("the design's example loads with every field")
  func designExample() throws {
    let inventory = try InventoryLoader.parse(designInventory, file: "inv.yaml")
    let production = try inventory.environment(nil)
    #expect(production.name == "production")
    #expect(production.hosts.map(\.name) == ["server", "gate", "gate-standby"])
    #expect(production.host("server")?.transport == .local)
    #expect(production.host("gate")?.transport == .ssh(address: "nexus-gate", port: 22, user: "root"))
    #expect(production.host("gate-standby")?.optional == true)
    #expect(production.ssh.knownHosts == "/etc/nexus-dr/known_hosts")
    #expect(production.database?.backupRole == "nexus_backup")
    #expect(production.nas?.minFree == ByteSize(bytes: 20 * 1_073_741_824))
    #expect(production.config?.exclude == ["*.key", "*.pem", "secrets/"])
    #expect(production.services == ["nexus-api", "nexus-sync"])
    #expect(production.retention.walDays == 14)
    #expect(production.objectives?.rto == .seconds(7200))
    #expect(production.objectives?.rpo == .seconds(300))
  }

  @Test("the conninfo never carries a password and quotes its values")
  func conninfo() throws {
    let inventory = try InventoryLoader.parse(designInventory)
    let database = try #require(try inventory.environment("production").database)
    #expect(database.conninfo() == "host='/var/run/postgresql' dbname='nexus' application_name=nexus-dr")
    #expect(database.conninfo(user: "o'brien").contains(#"user='o\'brien'"#))
  }

  @Test("an unknown environment names the ones there are")
  func unknownEnvironment() throws {
    let inventory = try InventoryLoader.parse(designInventory)
    #expect(throws: ConfigError.self) { try inventory.environment("stagng") }
    do {
      _ = try inventory.environment("stagng")
    } catch {
      #expect(error.description.contains("no environment 'stagng'"))
      #expect(error.description.contains("production"))
    }
  }

  /// Each malformed inventory, the text the error must point at (its first occurrence), and words the message must contain.
  static let malformed: [(name: String, yaml: String, at: String?, message: String)] = [
    ("unknown top-level key", "default: lab\nenvironmnts: {}\n", "environmnts", "unknown key 'environmnts'"),
    ("no environments", "default: lab\n", "default", "missing 'environments'"),
    (
      "unknown environment key", "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    nass: {}\n",
      "nass", "unknown key 'nass'"
    ),
    (
      "unknown host", "environments:\n  lab:\n    hosts:\n      db-server: { transport: local }\n",
      "{ transport: local }", "unknown host 'db-server'"
    ),
    (
      "unknown host key", "environments:\n  lab:\n    hosts:\n      server: { transport: local, adress: x }\n",
      "adress", "unknown key 'adress'"
    ),
    (
      "bad transport", "environments:\n  lab:\n    hosts:\n      server: { transport: telnet }\n", "telnet",
      "unknown transport 'telnet'"
    ),
    (
      "ssh host without address",
      "environments:\n  lab:\n    hosts:\n      gate: { user: root }\n    ssh: { known_hosts: /k }\n", "{ user: root }",
      "missing 'address'"
    ),
    (
      "ssh hosts without ssh settings", "environments:\n  lab:\n    hosts:\n      gate: { address: g }\n", "hosts:",
      "no 'ssh' settings"
    ),
    (
      "known_hosts missing",
      "environments:\n  lab:\n    hosts:\n      gate: { address: g }\n    ssh: { identity: /id }\n",
      "{ identity: /id }", "missing 'known_hosts'"
    ),
    (
      "bad duration",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    objectives: { rto: 2 hours, rpo: 5m }\n",
      "2 hours", "not a duration: '2 hours'"
    ),
    (
      "duration without unit",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    objectives: { rto: 120, rpo: 5m }\n",
      "120", "not a duration: '120'"
    ),
    (
      "bad size",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    nas: { path: /n, fallback: /f, min_free: lots }\n",
      "lots", "not a size: 'lots'"
    ),
    (
      "bad connect timeout",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    ssh: { known_hosts: /k, connect_timeout: soon }\n",
      "soon", "not a duration: 'soon'"
    ),
    (
      "port out of range",
      "environments:\n  lab:\n    hosts:\n      gate: { address: g, port: 70000 }\n    ssh: { known_hosts: /k }\n",
      "70000", "port 70000 is out of range"
    ),
    (
      "port not a number",
      "environments:\n  lab:\n    hosts:\n      gate: { address: g, port: ssh }\n    ssh: { known_hosts: /k }\n",
      "ssh }", "must be a whole number"
    ),
    (
      "zero retention",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    retention: { daily: 0 }\n", "0 }",
      "'daily' must be at least 1"
    ),
    (
      "optional not a bool", "environments:\n  lab:\n    hosts:\n      server: { transport: local, optional: maybe }\n",
      "maybe", "must be true or false"
    ),
    (
      "local host with address", "environments:\n  lab:\n    hosts:\n      server: { transport: local, address: x }\n",
      "x }", "'address' does not apply"
    ),
    (
      "default names no environment",
      "default: prod\nenvironments:\n  lab:\n    hosts: { server: { transport: local } }\n", "prod",
      "default environment 'prod' is not defined"
    ),
    (
      "services not a list",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    services: nexus-api\n", "nexus-api",
      "must be a list"
    ),
    ("hosts not a mapping", "environments:\n  lab:\n    hosts: [server, gate]\n", "[server", "must be a mapping"),
    (
      "database without name",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    database: { host: /run }\n",
      "{ host: /run }", "missing 'name'"
    ),
    ("broken YAML", "environments:\n  lab:\n    hosts: { server: { transport: local }\n", nil, "not valid YAML"),
    (
      "duplicate key",
      "environments:\n  lab:\n    hosts: { server: { transport: local } }\n  lab:\n    hosts: { server: { transport: local } }\n",
      nil, "duplicate key lab"
    ),
    ("empty file", "", nil, "empty"),
  ]

  @Test("each malformed inventory is rejected with its place and message", arguments: malformed)
  func rejected(_ testCase: (name: String, yaml: String, at: String?, message: String)) {
    do {
      _ = try InventoryLoader.parse(testCase.yaml, file: "bad.yaml")
      Issue.record("\(testCase.name): was accepted")
    } catch {
      #expect(error.description.contains(testCase.message), "\(testCase.name): \(error.description)")
      if let at = testCase.at {
        let (line, column) = position(of: at, in: testCase.yaml)
        #expect(
          error.line == line && error.column == column,
          "\(testCase.name): at \(error.line):\(error.column), expected \(line):\(column)")
      }
      #expect(error.description.hasPrefix("bad.yaml:"), "\(testCase.name): \(error.description)")
    }
  }

  /// 1-based line and column of the first occurrence of `needle`.
  func position(of needle: String, in text: String) -> (Int, Int) {
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      if let range = line.range(of: needle) {
        return (index + 1, line.distance(from: line.startIndex, to: range.lowerBound) + 1)
      }
    }
    return (0, 0)
  }

  @Test("a misspelt key gets a suggestion")
  func suggestion() {
    do {
      _ = try InventoryLoader.parse(
        "environments:\n  lab:\n    hosts: { server: { transport: local } }\n    nas: { path: /n, fallback: /f, min_fre: 1GiB }\n"
      )
      Issue.record("accepted")
    } catch {
      #expect(error.hint?.contains("did you mean 'min_free'") == true)
    }
  }

  @Test("a missing file is reported with its path")
  func missingFile() {
    do {
      _ = try InventoryLoader.load(file: "/nonexistent/inventory.yaml")
      Issue.record("accepted")
    } catch {
      #expect(error.code == .fileUnreadable)
      #expect(error.description.contains("/nonexistent/inventory.yaml"))
    }
  }
}
