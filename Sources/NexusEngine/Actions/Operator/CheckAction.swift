import NexusCore

/// `check`: a named or inline check as a step; the step fails when the check does.
public struct CheckAction: StepAction {
  public static let name = "check"
  public enum Parameter: String, ParameterKey { case check }
  public static let hostUse = HostUse.forbidden
  public static let naturallyIdempotent = true

  public var check: Check

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    check = try Check.decode(
      try parameters.required(.check, hint: "a check's name, e.g. gate-reachable, or {id, host, argv}"),
      context: context)
  }

  public var declaredOutputs: Set<String>? { ["evidence"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["check \(check.id): \(CheckRunner.describe(check, values: context.values))"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let result = await context.checks.run(check, values: context.values)
    context.console.check(result)
    guard result.passed else { throw StepFailure(.failed, "check \(check.id) failed: \(result.evidence)") }
    return StepResult(outputs: ["evidence": result.evidence])
  }
}
