import Foundation
import NexusCore
import NexusTransport

/// `gate.replacement`: the machine that becomes the gate. The step's host (the
/// standby) is used when it answers over SSH with its known host key; otherwise the
/// operator provisions a new Raspberry Pi (question `manual.STEP-ID`) at that
/// host's address (or resumes with `--host gate-standby=ADDRESS`), and it must
/// answer before the run goes on. Changes nothing.
public struct GateReplacementAction: StepAction {
  public static let name = "gate.replacement"
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {}

  public var declaredOutputs: Set<String>? { ["replacement", "hostname", "address"] }

  public func plan(_ context: PlanContext) -> [String] {
    let host = context.step.host ?? "gate-standby"
    return [
      "connect to \(host) (host key checked) and ask its hostname: if it answers, it becomes the gate",
      "otherwise ask the operator to provision a new Pi at \(host)'s address (question manual.\(context.step.id)), then check it answers",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let host = context.step.host ?? "gate-standby"
    let address = Self.address(of: host, in: context.environment)
    if let name = await Self.hostname(context) {
      context.console.line("    \(host) answers as \(name): it becomes the gate")
      return StepResult(outputs: ["replacement": "standby", "hostname": name, "address": address])
    }
    let answer = try await context.ask(
      Question(
        id: "manual.\(context.step.id)",
        text: """
          \(host) (\(address)) does not answer. Provision a new Raspberry Pi from the nexus-gate repository:
          give it the address \(address), root's SSH key of nexus-dr in authorized_keys, and put its host key
          (ssh-keyscan, checked against the fingerprint on its console) into \(context.environment.ssh.knownHosts).
          At another address: answer abort and resume with --host \(host)=ADDRESS.
          When it is done, answer 'done' (or 'abort' to stop here).
          """,
        kind: .words(["done", "abort"])))
    if answer.value == "abort" { throw StepFailure(.declined, "the operator stopped at '\(context.step.id)'") }
    guard let name = await Self.hostname(context) else {
      throw StepFailure(
        .failed, "\(host) (\(address)) still does not answer over SSH with a known host key; provision it, then resume")
    }
    return StepResult(outputs: ["replacement": "new", "hostname": name, "address": address])
  }

  static func hostname(_ context: StepContext) async -> String? {
    guard let result = try? await context.run(.argv(["hostname"], timeout: .seconds(30)), quiet: true), result.succeeded
    else { return nil }
    return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  static func address(of host: String, in environment: Environment) -> String {
    guard let spec = environment.host(host) else { return host }
    if case .ssh(let address, _, _) = spec.transport { return address }
    return "this machine"
  }
}
