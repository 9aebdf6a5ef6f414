import NexusCore

/// `confirm`: a gate before destructive work. Question id `confirm.STEP-ID`;
/// `--yes` answers it, except in production, where the operator types the
/// environment's name (on the terminal or in --answers).
public struct ConfirmAction: StepAction {
  public static let name = "confirm"
  public enum Parameter: String, ParameterKey { case text }
  public static let hostUse = HostUse.forbidden
  public static let naturallyIdempotent = true

  public var text: Template

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    text = try context.template(try parameters.required(.text, hint: "what will happen if the operator says yes"))
  }

  public var declaredOutputs: Set<String>? { ["answer"] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "ask for confirmation (question confirm.\(context.step.id)): \((try? text.render(context.values)) ?? text.description)"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let answer = try await Confirmation.ask(
      id: "confirm.\(context.step.id)", text: try context.render(text), context: context)
    return StepResult(outputs: ["answer": answer])
  }
}

/// The confirmation destructive steps and `confirm` share.
enum Confirmation {
  static func ask(id: String, text: String, context: StepContext) async throws(StepFailure) -> String {
    let production = context.environment.name == "production"
    let question = Question(
      id: id, text: text, kind: production ? .typeExactly(context.environment.name) : .confirm)
    let answer = try await context.ask(question)
    guard answer.value != "no" else { throw StepFailure(.declined, "the operator declined '\(context.step.id)'") }
    return answer.value
  }
}
