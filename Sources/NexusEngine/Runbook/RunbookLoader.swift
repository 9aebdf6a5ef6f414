import Crypto
import Foundation
import NexusCore

/// Reads runbooks strictly: every mistake is reported as `file:line:column`
/// with a hint, and a runbook that loads has only known actions, hosts, keys
/// and references to earlier steps.
public enum RunbookLoader {
  static let topKeys = ["runbook", "title", "description", "inputs", "preflight", "steps"]
  static let stepKeys = [
    "id", "title", "host", "action", "with", "timeout", "retries", "destructive", "idempotent", "when", "on_failure",
  ]

  public static func load(file: String) throws(ConfigError) -> Runbook {
    guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
      throw ConfigError(
        .fileUnreadable, file: file, message: "cannot read the runbook",
        hint: "check the path; runbooks live in runbooks/")
    }
    return try parse(text, file: file)
  }

  public static func parse(_ text: String, file: String = "runbook.yaml") throws(ConfigError) -> Runbook {
    let root = try YAMLValue.parse(text, file: file)
    let fields = try root.fields(allowed: topKeys)
    let idValue = try fields.required("runbook", hint: "the runbook's id, e.g. runbook: corrupt-db")
    let id = try idValue.string()
    guard isIdentifier(id) else {
      throw idValue.error(.invalidValue, "runbook id '\(id)' must be lowercase letters, digits and dashes")
    }

    var inputs: [InputSpec] = []
    if let inputsValue = fields["inputs"] {
      for (name, spec) in try inputsValue.mapping() {
        guard isIdentifier(name.replacingOccurrences(of: "_", with: "-")) else {
          throw spec.error(.invalidValue, "input name '\(name)' must be lowercase letters, digits, '-' or '_'")
        }
        if case .scalar(let scalar) = spec.node,
          scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null"
        {
          inputs.append(InputSpec(name: name))
          continue
        }
        let specFields = try spec.fields(allowed: ["description", "default"])
        inputs.append(
          InputSpec(
            name: name, description: try specFields["description"]?.string(),
            defaultValue: try specFields["default"]?.string()))
      }
    }
    let inputNames = Set(inputs.map(\.name))

    let stepsValue = try fields.required("steps", hint: "a runbook is a list of steps")
    let stepValues = try stepsValue.list()
    guard !stepValues.isEmpty else { throw stepsValue.error(.invalidValue, "the runbook has no steps") }

    // First pass: every step's id, so a reference to a later step is told apart from an unknown one.
    var ids: [String] = []
    for value in stepValues {
      let stepFields = try value.fields(allowed: stepKeys)
      let idNode = try stepFields.required("id", hint: "every step has a stable id, e.g. id: stop-services")
      let stepID = try idNode.string()
      guard isIdentifier(stepID) else {
        throw idNode.error(
          .invalidValue, "step id '\(stepID)' must be lowercase letters, digits and dashes",
          hint: "ids are stable names used by resume and --answers")
      }
      guard !ids.contains(stepID) else {
        throw idNode.error(.duplicate, "duplicate step id '\(stepID)'", hint: "each step id appears once in a runbook")
      }
      ids.append(stepID)
    }

    var preflight: [Check] = []
    if let preflightValue = fields["preflight"] {
      let context = StepDecodingContext(stepID: "preflight", inputs: inputNames, earlier: [:], later: Set(ids))
      for item in try preflightValue.list() {
        let check = try Check.decode(item, context: context)
        guard !preflight.contains(where: { $0.id == check.id }) else {
          throw item.error(.duplicate, "duplicate check '\(check.id)'")
        }
        preflight.append(check)
      }
    }

    var steps: [Step] = []
    var earlier: [String: Set<String>?] = [:]
    for (index, value) in stepValues.enumerated() {
      let context = StepDecodingContext(
        stepID: ids[index], inputs: inputNames, earlier: earlier, later: Set(ids[(index + 1)...]))
      let step = try decodeStep(value, context: context)
      earlier[step.id] = .some(step.action.definition.declaredOutputs)
      steps.append(step)
    }

    let title = try fields["title"]?.string() ?? id
    let hash = Digest.sha256Hex(Array(text.utf8))
    return Runbook(
      id: id, title: title, description: try fields["description"]?.string(), file: file, content: text,
      contentHash: hash, inputs: inputs, preflight: preflight, steps: steps)
  }

  static func decodeStep(_ value: YAMLValue, context: StepDecodingContext) throws(ConfigError) -> Step {
    let fields = try value.fields(allowed: stepKeys)
    let id = context.stepID
    let actionValue = try fields.required("action", hint: "actions: \(ActionRegistry.names.joined(separator: ", "))")
    let actionName = try actionValue.string()
    guard let type = ActionRegistry.type(named: actionName) else {
      throw actionValue.error(
        .invalidValue, "unknown action '\(actionName)' in step '\(id)'",
        hint: YAMLValue.suggestion(for: actionName, among: ActionRegistry.names))
    }

    var host: String?
    if let hostValue = fields["host"] {
      let name = try hostValue.string()
      guard HostRole.all.contains(name) else {
        throw hostValue.error(
          .unknownHost, "unknown host '\(name)' in step '\(id)'",
          hint: YAMLValue.suggestion(for: name, among: HostRole.all))
      }
      if type.hostUse == .forbidden {
        throw hostValue.error(.invalidValue, "action '\(actionName)' does not run on a host; remove 'host'")
      }
      host = name
    } else if type.hostUse == .required {
      throw value.error(
        .missingKey, "step '\(id)' needs a 'host' for action '\(actionName)'",
        hint: "hosts: \(HostRole.all.joined(separator: ", "))")
    }

    let parameters: YAMLFields
    if let with = fields["with"] {
      parameters = try with.fields(allowed: type.parameterKeys)
    } else {
      parameters = try YAMLValue.emptyMapping(standingIn: value, key: "with").fields(allowed: type.parameterKeys)
    }
    let definition = try type.decode(parameters, context: context)

    var retries = RetryPolicy.none
    if let retriesValue = fields["retries"] {
      if case .scalar = retriesValue.node {
        retries = RetryPolicy(count: try retriesValue.int(), backoff: .seconds(5))
      } else {
        let retryFields = try retriesValue.fields(allowed: ["count", "backoff"])
        retries = RetryPolicy(
          count: try retryFields.required("count").int(), backoff: try retryFields["backoff"]?.duration() ?? .seconds(5)
        )
      }
      guard (0...20).contains(retries.count) else {
        throw retriesValue.error(.invalidValue, "retries must be between 0 and 20, got \(retries.count)")
      }
    }

    var onFailure = FailurePolicy.stop
    if let failureValue = fields["on_failure"] {
      if case .scalar = failureValue.node {
        switch try failureValue.string() {
        case "stop": onFailure = .stop
        case "continue":
          throw failureValue.error(
            .invalidValue, "on_failure: continue needs a reason",
            hint: "write on_failure: { continue: \"why going on is safe\" }")
        case let other:
          throw failureValue.error(.invalidValue, "on_failure must be stop or { continue: REASON }, got '\(other)'")
        }
      } else {
        let reason = try failureValue.fields(allowed: ["continue"]).required("continue").string()
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
          throw failureValue.error(.invalidValue, "on_failure: continue needs a reason")
        }
        onFailure = .continue(reason: reason)
      }
    }

    var timeout: Duration?
    if let timeoutValue = fields["timeout"] {
      let value = try timeoutValue.duration()
      guard value > .zero else { throw timeoutValue.error(.invalidValue, "timeout must be more than zero") }
      timeout = value
    }

    return Step(
      id: id, title: try fields["title"]?.string() ?? id, host: host,
      action: Action(name: actionName, definition: definition),
      timeout: timeout, retries: retries, destructive: try fields["destructive"]?.bool() ?? false,
      idempotent: try fields["idempotent"]?.bool() ?? type.naturallyIdempotent,
      when: try fields["when"].map(context.condition), onFailure: onFailure, line: value.line)
  }

  static func isIdentifier(_ text: String) -> Bool {
    guard let first = text.first, first.isLetter || first.isNumber else { return false }
    return text.allSatisfy { ($0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" }
  }
}
