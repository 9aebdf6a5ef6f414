import NexusCore

/// A string with `{{ … }}` references, parsed once at load.
///
/// References: `{{ inputs.NAME }}`, `{{ steps.ID.output.KEY }}`, `{{ env.KEY }}`.
/// They are checked when the runbook loads (unknown input, unknown or later
/// step, unknown environment key) and filled in when the step runs.
public struct Template: Sendable, Hashable, CustomStringConvertible {
  public enum Segment: Sendable, Hashable {
    case literal(String)
    case reference(Reference)
  }

  public var segments: [Segment]

  public init(segments: [Segment]) { self.segments = segments }

  public init(literal: String) { segments = [.literal(literal)] }

  public var references: [Reference] {
    segments.compactMap { if case .reference(let reference) = $0 { reference } else { nil } }
  }

  public var isLiteral: Bool { references.isEmpty }

  /// The text as written, for `plan` and messages.
  public var description: String {
    segments.map {
      switch $0 {
      case .literal(let text): text
      case .reference(let reference): "{{ \(reference) }}"
      }
    }.joined()
  }

  /// Parses `text`; `nil` reference errors come back as a message for the caller to locate.
  public static func parse(_ text: String) -> Result<Template, TemplateError> {
    var segments: [Segment] = []
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      if open.lowerBound > rest.startIndex { segments.append(.literal(String(rest[..<open.lowerBound]))) }
      guard let close = rest[open.upperBound...].range(of: "}}") else {
        return .failure(TemplateError(message: "'{{' without a closing '}}' in \"\(text)\""))
      }
      let inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
      switch Reference.parse(inner) {
      case .success(let reference): segments.append(.reference(reference))
      case .failure(let error): return .failure(error)
      }
      rest = rest[close.upperBound...]
    }
    if !rest.isEmpty { segments.append(.literal(String(rest))) }
    return .success(Template(segments: segments))
  }

  /// Fills in the references. `quote` is applied to each filled-in value (shell quoting for command lines).
  public func render(_ values: ReferenceValues, quote: (String) -> String = { $0 }) throws(TemplateError) -> String {
    var result = ""
    for segment in segments {
      switch segment {
      case .literal(let text): result += text
      case .reference(let reference): result += quote(try values.value(for: reference))
      }
    }
    return result
  }
}

/// One `{{ … }}` reference.
public enum Reference: Sendable, Hashable, CustomStringConvertible {
  case input(String)
  case stepOutput(step: String, key: String)
  case environment(String)

  public var description: String {
    switch self {
    case .input(let name): "inputs.\(name)"
    case .stepOutput(let step, let key): "steps.\(step).output.\(key)"
    case .environment(let key): "env.\(key)"
    }
  }

  static func parse(_ text: String) -> Result<Reference, TemplateError> {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    let valid = parts.allSatisfy {
      !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }
    guard valid else {
      return .failure(TemplateError(message: "'{{ \(text) }}' is not a reference", hint: referenceHint))
    }
    switch parts.first {
    case "inputs" where parts.count == 2:
      return .success(.input(parts[1]))
    case "steps" where parts.count == 4 && parts[2] == "output":
      return .success(.stepOutput(step: parts[1], key: parts[3]))
    case "env" where parts.count >= 2:
      return .success(.environment(parts.dropFirst().joined(separator: ".")))
    default:
      return .failure(TemplateError(message: "'{{ \(text) }}' is not a reference", hint: referenceHint))
    }
  }

  static let referenceHint = "write {{ inputs.NAME }}, {{ steps.STEP-ID.output.KEY }} or {{ env.KEY }}"
}

public struct TemplateError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var hint: String?
  public var description: String { message }
}

/// What references resolve to while a run goes on.
public struct ReferenceValues: Sendable {
  public var inputs: [String: String]
  public var outputs: [String: [String: String]]
  public var environment: [String: String]

  public init(
    inputs: [String: String] = [:], outputs: [String: [String: String]] = [:], environment: [String: String] = [:]
  ) {
    self.inputs = inputs
    self.outputs = outputs
    self.environment = environment
  }

  public func value(for reference: Reference) throws(TemplateError) -> String {
    switch reference {
    case .input(let name):
      guard let value = inputs[name] else { throw TemplateError(message: "input '\(name)' has no value") }
      return value
    case .stepOutput(let step, let key):
      guard let outputs = outputs[step] else {
        throw TemplateError(
          message: "step '\(step)' has not run (it was skipped or failed), so \(reference) has no value")
      }
      guard let value = outputs[key] else {
        throw TemplateError(
          message:
            "step '\(step)' produced no output '\(key)'; it has: \(outputs.keys.sorted().joined(separator: ", "))")
      }
      return value
    case .environment(let key):
      guard let value = environment[key] else {
        throw TemplateError(message: "the environment has no value for \(reference)")
      }
      return value
    }
  }
}

extension Environment {
  /// The values `{{ env.… }}` can name. The keys are fixed, so references are checked at load.
  public var templateValues: [String: String] {
    var values: [String: String] = ["name": name]
    if let nas {
      values["nas.path"] = nas.path
      values["nas.fallback"] = nas.fallback
    }
    if let database {
      values["database.name"] = database.name
      values["database.backup_role"] = database.backupRole
      values["database.host"] = database.host
      // For a runbook's psql (PGPORT, PGPASSFILE): the inventory's, never the tool's defaults.
      values["database.port"] = String(database.port ?? 5432)
      values["database.passfile"] = database.passfile ?? ""
    }
    if let attachments { values["attachments"] = attachments }
    for host in hosts {
      if case .ssh(let address, let port, _) = host.transport {
        values["hosts.\(host.name).address"] = address
        values["hosts.\(host.name).port"] = String(port)
      }
    }
    return values
  }

  /// Every key an environment may offer, for checking references at load.
  public static let templateKeys: Set<String> = Set([
    "name", "nas.path", "nas.fallback", "database.name", "database.backup_role", "database.host", "database.port",
    "database.passfile", "attachments",
  ]).union(HostRole.all.flatMap { ["hosts.\($0).address", "hosts.\($0).port"] })
}
