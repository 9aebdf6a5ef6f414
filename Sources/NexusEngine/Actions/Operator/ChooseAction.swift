import Foundation
import NexusCore

/// `choose`: the operator picks one option. Options are listed in the runbook,
/// or computed by an earlier step as a JSON array of `{"id", "label"}` objects.
/// Question id `choose.STEP-ID`; the answer is the option's id, in output `choice`.
public struct ChooseAction: StepAction {
  public static let name = "choose"
  public enum Parameter: String, ParameterKey { case text, options }
  public static let hostUse = HostUse.forbidden
  public static let naturallyIdempotent = true

  public enum Options: Sendable {
    case fixed([ChoiceOption])
    case computed(Template)
  }

  public var text: Template
  public var options: Options

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    text = try context.template(try parameters.required(.text, hint: "the question to ask"))
    let optionsValue = try parameters.required(
      .options, hint: "a list of {id, label}, or {{ steps.ID.output.KEY }} holding a JSON list")
    if case .scalar = optionsValue.node {
      let template = try context.template(optionsValue)
      guard !template.isLiteral else {
        throw optionsValue.error(.invalidValue, "'options' must be a list or a reference to an earlier step's output")
      }
      options = .computed(template)
    } else {
      var fixed: [ChoiceOption] = []
      for item in try optionsValue.list() {
        let fields = try item.fields(allowed: ["id", "label"])
        let id = try fields.required("id").string()
        guard !fixed.contains(where: { $0.id == id }) else { throw item.error(.duplicate, "duplicate option '\(id)'") }
        fixed.append(ChoiceOption(id: id, label: try fields["label"]?.string() ?? id))
      }
      guard fixed.count >= 1 else { throw optionsValue.error(.invalidValue, "'options' is empty") }
      options = .fixed(fixed)
    }
  }

  public var declaredOutputs: Set<String>? { ["choice", "label"] }

  public func plan(_ context: PlanContext) -> [String] {
    switch options {
    case .fixed(let options):
      ["ask the operator to choose (question choose.\(context.step.id)): \(options.map(\.id).joined(separator: " | "))"]
    case .computed(let template):
      ["ask the operator to choose (question choose.\(context.step.id)) among \(template)"]
    }
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let list: [ChoiceOption]
    switch options {
    case .fixed(let options): list = options
    case .computed(let template):
      let json = try context.render(template)
      guard let decoded = try? JSONDecoder().decode([ChoiceOption].self, from: Data(json.utf8)), !decoded.isEmpty else {
        throw StepFailure(
          .failed,
          "the options for '\(context.step.id)' are not a JSON list of {\"id\", \"label\"}: \(json.prefix(200))")
      }
      list = decoded
    }
    let answer = try await context.ask(
      Question(id: "choose.\(context.step.id)", text: try context.render(text), kind: .choice(list)))
    let label = list.first { $0.id == answer.value }?.label ?? answer.value
    return StepResult(outputs: ["choice": answer.value, "label": label])
  }
}
