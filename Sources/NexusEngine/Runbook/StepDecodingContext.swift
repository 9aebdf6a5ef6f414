import NexusCore

/// What a step's parameters may refer to while it is decoded: declared inputs,
/// the steps before it and their outputs, and the environment's keys.
public struct StepDecodingContext {
  public var stepID: String
  var inputs: Set<String>
  /// Earlier steps and their declared outputs (nil: known only at run time).
  var earlier: [String: Set<String>?]
  /// Steps that come later, so "later" can be told apart from "unknown".
  var later: Set<String>

  /// Parses a scalar as a template and checks its references.
  public func template(_ value: YAMLValue) throws(ConfigError) -> Template {
    let text = try value.string()
    switch Template.parse(text) {
    case .success(let template):
      try validate(template.references, at: value)
      return template
    case .failure(let error):
      throw value.error(.invalidValue, error.message, hint: error.hint ?? Reference.referenceHint)
    }
  }

  public func condition(_ value: YAMLValue) throws(ConfigError) -> Condition {
    switch Condition.parse(try value.string()) {
    case .success(let condition):
      try validate(condition.references, at: value)
      return condition
    case .failure(let error):
      throw value.error(
        .invalidValue, "'when': \(error.message)",
        hint: "e.g. when: \"{{ steps.choose.output.choice }} == pitr\"")
    }
  }

  func validate(_ references: [Reference], at value: YAMLValue) throws(ConfigError) {
    for reference in references {
      switch reference {
      case .input(let name):
        guard inputs.contains(name) else {
          throw value.error(
            .invalidValue, "'\(reference)' names an input the runbook does not declare",
            hint: inputs.isEmpty
              ? "declare it under inputs:" : "declared inputs: \(inputs.sorted().joined(separator: ", "))")
        }
      case .stepOutput(let step, let key):
        if step == stepID {
          throw value.error(
            .invalidValue, "step '\(stepID)' refers to its own output '\(reference)'",
            hint: "a step can only use outputs of steps before it")
        }
        if later.contains(step) {
          throw value.error(
            .invalidValue, "'\(reference)' refers to step '\(step)', which comes later",
            hint: "a step can only use outputs of steps before it; move '\(step)' earlier")
        }
        guard let outputs = earlier[step] else {
          throw value.error(
            .invalidValue, "'\(reference)' refers to an unknown step '\(step)'",
            hint: earlier.isEmpty
              ? "no step comes before this one" : "earlier steps: \(earlier.keys.sorted().joined(separator: ", "))")
        }
        if let outputs, !outputs.contains(key) {
          throw value.error(
            .invalidValue, "step '\(step)' has no output '\(key)'",
            hint: "its outputs: \(outputs.sorted().joined(separator: ", "))")
        }
      case .environment(let key):
        guard Environment.templateKeys.contains(key) else {
          throw value.error(
            .invalidValue, "'\(reference)' is not an environment value",
            hint: "available: \(Environment.templateKeys.sorted().map { "env.\($0)" }.joined(separator: ", "))")
        }
      }
    }
  }
}
