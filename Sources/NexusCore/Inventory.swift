/// The site as nexus-dr sees it: environments, each a full set of hosts, paths,
/// database and objectives. Read from YAML by ``InventoryLoader``.
public struct Inventory: Sendable {
  /// The file it was read from, for messages.
  public var source: String
  public var defaultEnvironment: String
  public var environments: [String: Environment]

  public init(source: String, defaultEnvironment: String, environments: [String: Environment]) {
    self.source = source
    self.defaultEnvironment = defaultEnvironment
    self.environments = environments
  }

  /// The environment by name, or the inventory's default when `name` is nil.
  public func environment(_ name: String?) throws(ConfigError) -> Environment {
    let wanted = name ?? defaultEnvironment
    guard let environment = environments[wanted] else {
      throw ConfigError(
        .unknownEnvironment, file: source,
        message: "no environment '\(wanted)' in the inventory",
        hint: "environments here: \(environments.keys.sorted().joined(separator: ", "))")
    }
    return environment
  }
}

/// One environment: `production`, `staging` or `lab`.
public struct Environment: Sendable {
  public var name: String
  /// Hosts in the order the inventory lists them.
  public var hosts: [HostSpec]
  public var ssh: SSHSettings
  public var database: DatabaseSpec?
  public var nas: NASSpec?
  public var attachments: String?
  public var config: ConfigPaths?
  public var services: [String]
  public var retention: Retention
  public var objectives: Objectives?
  /// How `nexus-dr rehearse` breaks and repairs this environment, and whose acknowledgements
  /// measure the data lost. Nil: the built-in injections only, no data-loss measurement.
  public var rehearsal: RehearsalSpec? = nil

  public func host(_ name: String) -> HostSpec? { hosts.first { $0.name == name } }
}

/// The host roles nexus-dr knows. Runbooks name hosts by these roles.
public enum HostRole {
  public static let all = ["server", "gate", "gate-standby"]
}

/// How one host is reached.
public struct HostSpec: Sendable, Hashable {
  public enum Transport: Sendable, Hashable {
    /// nexus-dr runs on this host.
    case local
    /// Reached over SSH at `address:port` as `user`.
    case ssh(address: String, port: Int, user: String)
  }

  public var name: String
  public var transport: Transport
  /// An optional host (a standby) may be absent without failing `hosts check`.
  public var optional: Bool

  public init(name: String, transport: Transport, optional: Bool = false) {
    self.name = name
    self.transport = transport
    self.optional = optional
  }
}

public struct SSHSettings: Sendable, Hashable {
  /// Private key file; when nil, only ssh-agent is tried.
  public var identity: String?
  public var knownHosts: String
  public var connectTimeout: Duration
  public var keepalive: Duration

  public init(
    identity: String?, knownHosts: String, connectTimeout: Duration = .seconds(10),
    keepalive: Duration = .seconds(30)
  ) {
    self.identity = identity
    self.knownHosts = knownHosts
    self.connectTimeout = connectTimeout
    self.keepalive = keepalive
  }
}

public struct DatabaseSpec: Sendable, Hashable {
  public var name: String
  /// A host name, an address, or a socket directory (starting with `/`).
  public var host: String
  public var port: Int?
  /// The role nexus-dr connects as for checks and restores; libpq's default when nil.
  public var user: String?
  /// The role that takes the dumps (`pg_read_all_data`).
  public var backupRole: String
  /// A libpq password file (`.pgpass` format, mode 0600); libpq's default
  /// (`PGPASSFILE` or `~/.pgpass`) when nil. The path only: passwords never sit in the inventory.
  public var passfile: String?
  /// How often an idle connection is probed; a dead link (the server unplugged mid-query) is
  /// noticed within about three of these instead of never.
  public var keepalive: Duration = .seconds(30)
  /// The nightly's globals dump (`pg_dumpall --globals-only`) includes the roles' password
  /// hashes only when the site opts in; it is then taken as `user` (a superuser) and kept 0600.
  public var globalsPasswords = false

  /// `--host`, `--port` and `--username` for a PostgreSQL client tool (pg_dump, pg_dumpall,
  /// pg_basebackup, pg_restore, createdb, dropdb, pg_amcheck): the inventory's connection, as
  /// nexus-dr's own libpq connections use it, never the tool's defaults (the default socket
  /// and port, `~/.pgpass`). `user` nil: the inventory's `user`.
  public func toolArguments(user: String? = nil) -> [String] {
    var arguments = ["--host=\(host)"]
    if let port { arguments.append("--port=\(port)") }
    if let user = user ?? self.user { arguments.append("--username=\(user)") }
    return arguments + ["--no-password"]
  }

  /// What libpq reads from the environment for the tools (pg_dump, pg_dumpall, pg_restore, psql):
  /// the same password file as nexus-dr's own connections. (No PGAPPNAME: each tool keeps its
  /// own name in pg_stat_activity, where a DBA and the fault matrix look for `pg_dump`.)
  public var toolEnvironment: [String: String] {
    passfile.map { ["PGPASSFILE": $0] } ?? [:]
  }

  /// A libpq conninfo without any password: libpq finds that in `.pgpass`.
  public func conninfo(user: String? = nil, database: String? = nil) -> String {
    var parts = ["host=\(Self.quoteConninfo(host))", "dbname=\(Self.quoteConninfo(database ?? name))"]
    if let port { parts.append("port=\(port)") }
    if let user = user ?? self.user { parts.append("user=\(Self.quoteConninfo(user))") }
    if let passfile { parts.append("passfile=\(Self.quoteConninfo(passfile))") }
    parts.append("application_name=nexus-dr")
    if !host.hasPrefix("/") {
      // libpq's TCP keepalives (idle, interval, count) and TCP_USER_TIMEOUT in milliseconds.
      let seconds = max(1, keepalive.components.seconds)
      parts.append(
        "keepalives=1 keepalives_idle=\(seconds) keepalives_interval=\(seconds) keepalives_count=2 tcp_user_timeout=\(seconds * 2000)"
      )
    }
    return parts.joined(separator: " ")
  }

  /// Conninfo values in single quotes with `\` and `'` escaped, as libpq reads them.
  static func quoteConninfo(_ value: String) -> String {
    "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
      + "'"
  }
}

public struct NASSpec: Sendable, Hashable {
  public var path: String
  public var fallback: String
  public var minFree: ByteSize
  /// The filesystem type the NAS mount must have (`nfs4`, `cifs`, `ext4`); any when nil.
  public var fstype: String?
}

public struct ConfigPaths: Sendable, Hashable {
  public var server: [String]
  public var gate: [String]
  public var exclude: [String]
}

public struct Retention: Sendable, Hashable {
  public var daily: Int = 7
  public var walDays: Int = 14
  public var baseBackups: Int = 3
  public var clarityDays: Int = 30
  public init() {}
}

public struct Objectives: Sendable, Hashable {
  public var rto: Duration
  public var rpo: Duration

  public init(rto: Duration, rpo: Duration) {
    self.rto = rto
    self.rpo = rpo
  }
}

/// An environment's rehearsal settings (`rehearsal:` in the inventory). Commands are argument
/// arrays run on the machine nexus-dr runs on (never through a shell).
public struct RehearsalSpec: Sendable, Hashable {
  /// A witness of what the site promised: a log of records a sync client had acknowledged,
  /// one `SEQ<TAB>ISO-TIME` line each, on this machine.
  public struct Acknowledgements: Sendable, Hashable {
    public var device: String
    public var log: String
  }

  public struct Scenario: Sendable, Hashable {
    /// Breaks the environment (a host powered off, a link cut). Nil: the built-in injection.
    public var inject: [String]?
    /// The repair a person makes before the runbook starts (a new machine installed, the NAS
    /// replaced). A line `answer ID VALUE` on its standard output answers that question.
    public var repair: [String]?
    /// Puts the environment back in its usual shape after the measurement (the old gate back).
    public var restore: [String]?
    /// corrupt-db: the table the built-in injection drops (default `appointments`).
    public var dropTable: String?
    public var inputs: [String: String] = [:]
    public var answers: [String: String] = [:]

    public init(
      inject: [String]? = nil, repair: [String]? = nil, restore: [String]? = nil, dropTable: String? = nil,
      inputs: [String: String] = [:], answers: [String: String] = [:]
    ) {
      self.inject = inject
      self.repair = repair
      self.restore = restore
      self.dropTable = dropTable
      self.inputs = inputs
      self.answers = answers
    }
  }

  public static let scenarios = ["corrupt-db", "server-failure", "gateway-failure", "nas-failure"]

  public var acknowledgements: Acknowledgements?
  public var scenarios: [String: Scenario] = [:]

  public init(acknowledgements: Acknowledgements? = nil, scenarios: [String: Scenario] = [:]) {
    self.acknowledgements = acknowledgements
    self.scenarios = scenarios
  }
}
