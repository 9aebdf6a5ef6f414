import NexusCore
import NexusTransport

/// Everything a step's action may use while it runs.
public struct StepContext: Sendable {
  public var step: Step
  public var environment: Environment
  public var transports: HostTransports
  public var values: ReferenceValues
  public var prompter: Prompter
  public var console: ConsoleOutput
  public var checks: CheckRunner
  /// The run this step belongs to (empty outside a run, e.g. `plan --probe`).
  public var runID = ""

  /// Default for a step without `timeout:`: long enough for real work, short enough to notice a hang.
  public static let defaultTimeout: Duration = .seconds(600)

  public var timeout: Duration { step.timeout ?? Self.defaultTimeout }

  public func transport(_ host: String? = nil) throws(StepFailure) -> any Transport {
    guard let name = host ?? step.host else { throw StepFailure(.failed, "step '\(step.id)' names no host") }
    do { return try transports.transport(for: name) } catch { throw StepFailure.from(error) }
  }

  public func render(_ template: Template) throws(StepFailure) -> String {
    do { return try template.render(values) } catch {
      throw StepFailure(.failed, "step '\(step.id)': \(error.message)")
    }
  }

  public func command(_ spec: CommandSpec) throws(StepFailure) -> HostCommand {
    do { return try spec.render(values, timeout: timeout) } catch {
      throw StepFailure(.failed, "step '\(step.id)': \(error.message)")
    }
  }

  /// Runs a command on a host, its output streamed to the operator (unless `quiet`:
  /// the plumbing of an action, whose result the action reports itself).
  public func run(_ command: HostCommand, on host: String? = nil, quiet: Bool = false) async throws(StepFailure)
    -> CommandResult
  {
    let transport = try transport(host)
    let console = self.console
    defer { console.flushStreams() }
    do {
      if quiet { return try await transport.run(command) }
      return try await transport.run(command) { stream, bytes in console.stream(stream, bytes) }
    } catch {
      throw StepFailure.from(error)
    }
  }

  public func ask(_ question: Question) async throws(StepFailure) -> Answer {
    try await prompter.ask(question)
  }
}

/// What `plan` knows: inputs and the environment, not yet the outputs of steps.
public struct PlanContext: Sendable {
  public var step: Step
  public var values: ReferenceValues

  public init(step: Step, values: ReferenceValues) {
    self.step = step
    self.values = values
  }
}
