import Foundation
import NexusCore
import NexusTransport

/// What `services.stop` and `services.start` share: only the verb differs.
/// The keys of `services.stop` and `services.start`.
public enum ServicesParameter: String, ParameterKey { case services }

protocol ServicesVerbAction: StepAction where Parameter == ServicesParameter {
  static var verb: String { get }
  var services: [String]? { get }
  init(services: [String]?)
}

extension ServicesVerbAction {
  public static var hostUse: HostUse { .required }
  public static var naturallyIdempotent: Bool { true }

  public init(with parameters: StepParameters<ServicesParameter>, context: StepDecodingContext) throws(ConfigError) {
    self.init(services: try parameters[.services]?.stringList())
  }

  var outputKey: String { Self.verb == "start" ? "started" : "stopped" }

  public var declaredOutputs: Set<String>? { [outputKey] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "systemctl \(Self.verb) \(services?.joined(separator: " ") ?? "<inventory services>"); then each must be \(Self.verb == "start" ? "active" : "inactive")"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let names = services ?? context.environment.services
    try await ServiceControl.apply(Self.verb, names, context: context)
    return StepResult(outputs: [outputKey: names.joined(separator: ",")])
  }
}

enum ServiceControl {
  static func apply(_ verb: String, _ names: [String], context: StepContext) async throws(StepFailure) {
    guard !names.isEmpty else { return }
    let result = try await context.run(HostCommand(.argv(["systemctl", verb] + names), timeout: .seconds(120)))
    guard result.succeeded else {
      throw StepFailure(.failed, "systemctl \(verb) \(names.joined(separator: " ")) failed: \(result.stderrTail)")
    }
    let want = verb == "start"
    for name in names {
      let state = try await context.run(
        HostCommand(.argv(["systemctl", "is-active", name]), timeout: .seconds(30)), quiet: true)
      let active = state.exitCode == 0
      guard active == want else {
        throw StepFailure(
          .failed,
          "\(name) is \(state.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) after systemctl \(verb)")
      }
    }
    context.console.line("    \(names.joined(separator: ", ")) \(want ? "active" : "stopped")")
  }
}
