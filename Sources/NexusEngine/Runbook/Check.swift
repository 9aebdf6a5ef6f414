import NexusCore

/// A read-only probe that must pass before a runbook changes anything.
public struct Check: Sendable {
  public enum Probe: Sendable {
    /// The host answers over its transport with a verified host key.
    case hostReachable(String)
    /// The host does not answer with the host key nexus-dr trusts (it is dead, or it
    /// is another machine now): the guard of a scenario that rebuilds that host.
    case hostDown(String)
    /// The environment's database accepts a connection and a query.
    case databaseUp
    /// A command on a host exits with an expected status; its output is the evidence.
    case command(host: String, CommandSpec)
  }

  public var id: String
  public var title: String
  public var probe: Probe

  /// Host this check contacts, if any.
  public var host: String? {
    switch probe {
    case .hostReachable(let host), .hostDown(let host): host
    case .databaseUp: nil
    case .command(let host, _): host
    }
  }

  /// The named checks a runbook can list under `preflight:` by name alone.
  public static func named(_ name: String) -> Check? {
    for role in HostRole.all where name == "\(role)-reachable" {
      return Check(id: name, title: "\(role) reachable, host key verified", probe: .hostReachable(role))
    }
    for role in HostRole.all where name == "\(role)-down" {
      return Check(
        id: name, title: "\(role) is down (it does not answer with its known host key)", probe: .hostDown(role))
    }
    if name == "database-up" {
      return Check(id: name, title: "database accepts connections", probe: .databaseUp)
    }
    return nil
  }

  public static var builtinNames: [String] {
    HostRole.all.flatMap { ["\($0)-reachable", "\($0)-down"] } + ["database-up"]
  }

  static let inlineKeys = ["id", "title", "host"] + CommandSpec.keys

  /// A `preflight:` entry: a built-in check's name, or an inline command check.
  static func decode(_ value: YAMLValue, context: StepDecodingContext) throws(ConfigError) -> Check {
    if case .scalar = value.node {
      let name = try value.string()
      guard let check = named(name) else {
        throw value.error(
          .invalidValue, "unknown check '\(name)'",
          hint:
            "built-in checks: \(builtinNames.joined(separator: ", ")); or write an inline check with id, host and argv")
      }
      return check
    }
    let fields = try value.fields(allowed: inlineKeys)
    let id = try fields.required("id").string()
    let hostValue = try fields.required(
      "host", hint: "the host the check runs on: \(HostRole.all.joined(separator: ", "))")
    let host = try hostValue.string()
    guard HostRole.all.contains(host) else {
      throw hostValue.error(
        .unknownHost, "unknown host '\(host)'", hint: YAMLValue.suggestion(for: host, among: HostRole.all))
    }
    let command = try CommandSpec.decode(fields, context)
    return Check(id: id, title: try fields["title"]?.string() ?? id, probe: .command(host: host, command))
  }
}

/// A check's outcome, with the evidence printed beside pass or fail.
public struct CheckResult: Sendable, Codable, Hashable {
  public var id: String
  public var title: String
  public var passed: Bool
  public var evidence: String
  public var durationMs: Int64
}
