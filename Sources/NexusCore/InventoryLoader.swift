import Foundation

/// Reads an inventory file strictly: unknown keys, unknown hosts, bad durations
/// and sizes are errors with the file, line and column.
public enum InventoryLoader {
  public static func load(file: String) throws(ConfigError) -> Inventory {
    try decode(try YAMLValue.load(file: file))
  }

  public static func parse(_ text: String, file: String = "inventory.yaml") throws(ConfigError) -> Inventory {
    try decode(try YAMLValue.parse(text, file: file))
  }

  static func decode(_ root: YAMLValue) throws(ConfigError) -> Inventory {
    let fields = try root.fields(allowed: ["default", "environments"])
    let environmentsNode = try fields.required(
      "environments", hint: "an inventory lists its environments: production, staging, lab")
    var environments: [String: Environment] = [:]
    var order: [String] = []
    for (name, value) in try environmentsNode.mapping() {
      environments[name] = try environment(name: name, value)
      order.append(name)
    }
    guard let first = order.first else {
      throw environmentsNode.error(.missingKey, "no environments are defined")
    }
    var defaultName = first
    if let node = fields["default"] {
      defaultName = try node.string()
      guard environments[defaultName] != nil else {
        throw node.error(
          .unknownEnvironment, "default environment '\(defaultName)' is not defined",
          hint: "defined here: \(order.joined(separator: ", "))")
      }
    }
    return Inventory(source: root.file, defaultEnvironment: defaultName, environments: environments)
  }

  static let environmentKeys = [
    "hosts", "ssh", "database", "nas", "attachments", "config", "services", "retention",
    "objectives", "rehearsal",
  ]

  static func environment(name: String, _ value: YAMLValue) throws(ConfigError) -> Environment {
    let fields = try value.fields(allowed: environmentKeys)
    let hostsNode = try fields.required("hosts", hint: "at least the server: hosts: { server: { transport: local } }")
    var hosts: [HostSpec] = []
    for (hostName, hostValue) in try hostsNode.mapping() {
      guard HostRole.all.contains(hostName) else {
        let keyError = hostValue.error(
          .unknownHost, "unknown host '\(hostName)' in environment '\(name)'",
          hint: YAMLValue.suggestion(for: hostName, among: HostRole.all))
        throw keyError
      }
      hosts.append(try host(name: hostName, hostValue))
    }
    let usesSSH = hosts.contains { if case .ssh = $0.transport { true } else { false } }
    let ssh: SSHSettings
    if let node = fields["ssh"] {
      ssh = try sshSettings(node)
    } else if usesSSH {
      throw value.error(
        .missingKey, "environment '\(name)' has SSH hosts but no 'ssh' settings",
        hint: "add ssh: { identity: /etc/nexus-dr/id_ed25519, known_hosts: /etc/nexus-dr/known_hosts }")
    } else {
      ssh = SSHSettings(identity: nil, knownHosts: "/etc/nexus-dr/known_hosts")
    }
    return Environment(
      name: name, hosts: hosts, ssh: ssh,
      database: try fields["database"].map(database),
      nas: try fields["nas"].map(nas),
      attachments: try fields["attachments"]?.string(),
      config: try fields["config"].map(configPaths),
      services: try fields["services"]?.stringList() ?? [],
      retention: try fields["retention"].map(retention) ?? Retention(),
      objectives: try fields["objectives"].map(objectives),
      rehearsal: try fields["rehearsal"].map(rehearsal))
  }

  static func host(name: String, _ value: YAMLValue) throws(ConfigError) -> HostSpec {
    let fields = try value.fields(allowed: ["transport", "address", "user", "port", "optional"])
    let optional = try fields["optional"]?.bool() ?? false
    let transport = try fields["transport"]?.string() ?? "ssh"
    switch transport {
    case "local":
      for key in ["address", "user", "port"] {
        if let extra = fields[key] {
          throw extra.error(.invalidValue, "host '\(name)' uses the local transport; '\(key)' does not apply")
        }
      }
      return HostSpec(name: name, transport: .local, optional: optional)
    case "ssh":
      let address = try fields.required("address", hint: "the host name or IP address to reach over SSH").string()
      let user = try fields["user"]?.string() ?? "root"
      var port = 22
      if let node = fields["port"] {
        port = try node.int()
        guard (1...65535).contains(port) else {
          throw node.error(.invalidValue, "port \(port) is out of range", hint: "a TCP port is 1 to 65535")
        }
      }
      return HostSpec(name: name, transport: .ssh(address: address, port: port, user: user), optional: optional)
    default:
      throw try fields.required("transport").error(
        .invalidValue, "unknown transport '\(transport)' for host '\(name)'", hint: "use local or ssh")
    }
  }

  static func sshSettings(_ value: YAMLValue) throws(ConfigError) -> SSHSettings {
    let fields = try value.fields(allowed: ["identity", "known_hosts", "connect_timeout", "keepalive"])
    return SSHSettings(
      identity: try fields["identity"]?.string(),
      knownHosts: try fields.required(
        "known_hosts", hint: "host keys are always checked; name the known_hosts file"
      ).string(),
      connectTimeout: try fields["connect_timeout"]?.duration() ?? .seconds(10),
      keepalive: try fields["keepalive"]?.duration() ?? .seconds(30))
  }

  static func database(_ value: YAMLValue) throws(ConfigError) -> DatabaseSpec {
    let fields = try value.fields(allowed: [
      "name", "host", "port", "user", "backup_role", "passfile", "keepalive", "globals_passwords",
    ])
    var spec = DatabaseSpec(
      name: try fields.required("name").string(),
      host: try fields["host"]?.string() ?? "/var/run/postgresql",
      port: try fields["port"]?.int(),
      user: try fields["user"]?.string(),
      backupRole: try fields["backup_role"]?.string() ?? "nexus_backup",
      passfile: try fields["passfile"]?.string(),
      keepalive: try fields["keepalive"]?.duration() ?? .seconds(30))
    spec.globalsPasswords = try fields["globals_passwords"]?.bool() ?? false
    return spec
  }

  static func nas(_ value: YAMLValue) throws(ConfigError) -> NASSpec {
    let fields = try value.fields(allowed: ["path", "fallback", "min_free", "fstype"])
    return NASSpec(
      path: try fields.required("path").string(),
      fallback: try fields.required("fallback", hint: "where backups go while the NAS is down").string(),
      minFree: try fields["min_free"]?.byteSize() ?? ByteSize(bytes: 20 * 1_073_741_824),
      fstype: try fields["fstype"]?.string())
  }

  static func configPaths(_ value: YAMLValue) throws(ConfigError) -> ConfigPaths {
    let fields = try value.fields(allowed: ["server", "gate", "exclude"])
    return ConfigPaths(
      server: try fields["server"]?.stringList() ?? [],
      gate: try fields["gate"]?.stringList() ?? [],
      exclude: try fields["exclude"]?.stringList() ?? [])
  }

  static func retention(_ value: YAMLValue) throws(ConfigError) -> Retention {
    let fields = try value.fields(allowed: ["daily", "wal_days", "base_backups", "clarity_days"])
    var retention = Retention()
    func positive(_ key: String) throws(ConfigError) -> Int? {
      guard let node = fields[key] else { return nil }
      let number = try node.int()
      guard number >= 1 else {
        throw node.error(
          .invalidValue, "'\(key)' must be at least 1, got \(number)",
          hint: "retention never drops to zero: the newest backup is always kept")
      }
      return number
    }
    retention.daily = try positive("daily") ?? retention.daily
    retention.walDays = try positive("wal_days") ?? retention.walDays
    retention.baseBackups = try positive("base_backups") ?? retention.baseBackups
    retention.clarityDays = try positive("clarity_days") ?? retention.clarityDays
    return retention
  }

  static func rehearsal(_ value: YAMLValue) throws(ConfigError) -> RehearsalSpec {
    let fields = try value.fields(allowed: ["acknowledgements", "scenarios"])
    var spec = RehearsalSpec()
    if let node = fields["acknowledgements"] {
      let ack = try node.fields(allowed: ["device", "log"])
      spec.acknowledgements = .init(
        device: try ack.required("device", hint: "the sync client whose acknowledgements are logged, e.g. ipad-1")
          .string(),
        log: try ack.required("log", hint: "a file on this machine, one SEQ<TAB>ISO-TIME line per acknowledged record")
          .string())
    }
    for (name, node) in try fields["scenarios"]?.mapping() ?? [] {
      guard RehearsalSpec.scenarios.contains(name) else {
        throw node.error(
          .invalidValue, "unknown scenario '\(name)' under rehearsal.scenarios",
          hint: YAMLValue.suggestion(for: name, among: RehearsalSpec.scenarios))
      }
      let scenario = try node.fields(allowed: ["inject", "repair", "restore", "drop_table", "inputs", "answers"])
      func command(_ key: String) throws(ConfigError) -> [String]? {
        guard let node = scenario[key] else { return nil }
        let argv = try node.stringList()
        guard !argv.isEmpty, !argv[0].isEmpty else {
          throw node.error(
            .invalidValue, "'\(key)' of scenario '\(name)' is an empty command",
            hint: "an argument array: [program, arg, ...]")
        }
        return argv
      }
      func map(_ key: String) throws(ConfigError) -> [String: String] {
        var result: [String: String] = [:]
        for (k, v) in try scenario[key]?.mapping() ?? [] { result[k] = try v.string() }
        return result
      }
      var dropTable: String?
      if let node = scenario["drop_table"] {
        let table = try node.string()
        let parts = table.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts.contains(where: \.isEmpty) else {
          throw node.error(
            .invalidValue, "drop_table '\(table)' of scenario '\(name)' is not a table name",
            hint: "schema.table, e.g. public.appointments")
        }
        guard parts.count == 1 || parts[0] != "staging" else {
          throw node.error(
            .invalidValue, "drop_table '\(table)' of scenario '\(name)' is in the staging schema",
            hint: "nexus-dr never writes to staging (the iPads' unsynced records); name a table of another schema")
        }
        dropTable = table
      }
      spec.scenarios[name] = .init(
        inject: try command("inject"), repair: try command("repair"), restore: try command("restore"),
        dropTable: dropTable, inputs: try map("inputs"), answers: try map("answers"))
    }
    return spec
  }

  static func objectives(_ value: YAMLValue) throws(ConfigError) -> Objectives {
    let fields = try value.fields(allowed: ["rto", "rpo"])
    return Objectives(
      rto: try fields.required("rto", hint: "recovery-time objective, e.g. 2h").duration(),
      rpo: try fields.required("rpo", hint: "recovery-point objective, e.g. 5m").duration())
  }
}
