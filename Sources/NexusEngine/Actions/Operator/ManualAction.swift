import NexusCore

/// `manual`: instructions for the operator, a wait until they say it is done,
/// and optionally a check that proves it (a command on a host that must succeed).
/// Question id `manual.STEP-ID`, answers `done` or `abort`.
public struct ManualAction: StepAction {
  public static let name = "manual"
  public enum Parameter: String, ParameterKey { case text, check }
  public static let hostUse = HostUse.forbidden
  public static let naturallyIdempotent = true

  public var text: Template
  public var check: (host: String, command: CommandSpec)?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    text = try context.template(try parameters.required(.text, hint: "the instructions the operator follows"))
    if let checkValue = parameters[.check] {
      let fields = try checkValue.fields(allowed: ["host"] + CommandSpec.keys)
      let hostValue = try fields.required("host")
      let host = try hostValue.string()
      guard HostRole.all.contains(host) else {
        throw hostValue.error(
          .unknownHost, "unknown host '\(host)'", hint: YAMLValue.suggestion(for: host, among: HostRole.all))
      }
      check = (host, try CommandSpec.decode(fields, context))
    }
  }

  public var declaredOutputs: Set<String>? { ["answer"] }

  public func plan(_ context: PlanContext) -> [String] {
    var lines = [
      "ask the operator (question manual.\(context.step.id)): \((try? text.render(context.values)) ?? text.description)"
    ]
    if let check { lines.append("then verify on \(check.host): \(check.command.display(context.values))") }
    return lines
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let instructions = try context.render(text)
    let answer = try await context.ask(
      Question(
        id: "manual.\(context.step.id)",
        text: instructions + "\nWhen it is done, answer 'done' (or 'abort' to stop here).",
        kind: .words(["done", "abort"])))
    if answer.value == "abort" { throw StepFailure(.declined, "the operator stopped at '\(context.step.id)'") }
    guard let check else { return StepResult(outputs: ["answer": answer.value]) }
    let command = try context.command(check.command)
    let result = try await context.run(command, on: check.host)
    guard let code = result.exitCode, check.command.expectedExit.contains(code) else {
      throw StepFailure(
        .failed,
        "the check after '\(context.step.id)' failed on \(check.host): \(command.displayLine) ended with \(result.termination). The manual work does not look done; fix it and resume."
      )
    }
    return StepResult(outputs: ["answer": answer.value], exitStatus: code, command: command.displayLine)
  }
}
