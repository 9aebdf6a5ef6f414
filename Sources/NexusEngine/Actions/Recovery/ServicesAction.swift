import Foundation
import NexusCore
import NexusTransport

/// `services.stop` and `services.start`: the environment's nexus services (the
/// inventory's `services`) through systemctl on the host, each checked with
/// `systemctl is-active` afterwards.
public struct ServicesStopAction: StepAction {
  public static let name = "services.stop"
  public static let parameterKeys = ["services"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var services: [String]?

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    services = try parameters["services"]?.stringList()
  }

  public var declaredOutputs: Set<String>? { ["stopped"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["systemctl stop \(services?.joined(separator: " ") ?? "<inventory services>"); then each must be inactive"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let names = services ?? context.environment.services
    try await ServiceControl.apply("stop", names, context: context)
    return StepResult(outputs: ["stopped": names.joined(separator: ",")])
  }
}

public struct ServicesStartAction: StepAction {
  public static let name = "services.start"
  public static let parameterKeys = ["services"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var services: [String]?

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    services = try parameters["services"]?.stringList()
  }

  public var declaredOutputs: Set<String>? { ["started"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["systemctl start \(services?.joined(separator: " ") ?? "<inventory services>"); then each must be active"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let names = services ?? context.environment.services
    try await ServiceControl.apply("start", names, context: context)
    return StepResult(outputs: ["started": names.joined(separator: ",")])
  }
}

enum ServiceControl {
  static func apply(_ verb: String, _ names: [String], context: StepContext) async throws(StepFailure) {
    guard !names.isEmpty else { return }
    let result = try await context.run(HostCommand(.argv(["systemctl", verb] + names), timeout: .seconds(120)))
    guard result.succeeded else { throw StepFailure(.failed, "systemctl \(verb) \(names.joined(separator: " ")) failed: \(result.stderrTail)") }
    let want = verb == "start"
    for name in names {
      let state = try await context.run(HostCommand(.argv(["systemctl", "is-active", name]), timeout: .seconds(30)), quiet: true)
      let active = state.exitCode == 0
      guard active == want else {
        throw StepFailure(.failed, "\(name) is \(state.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) after systemctl \(verb)")
      }
    }
    context.console.line("    \(names.joined(separator: ", ")) \(want ? "active" : "stopped")")
  }
}
