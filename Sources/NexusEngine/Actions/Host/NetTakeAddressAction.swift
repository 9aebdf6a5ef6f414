import Foundation
import NexusCore
import NexusTransport

/// `net.take-address`: the gate's LAN address moves to this host. Refuses while
/// anything still answers at the address (ARP duplicate-address detection; ping
/// without arping), so a half-dead gate is never fought over; then adds it to the
/// interface that reaches that subnet, with the subnet's prefix, and announces it
/// (gratuitous ARP) so neighbours update at once. Already there: nothing to do.
public struct NetTakeAddressAction: StepAction {
  public static let name = "net.take-address"
  public enum Parameter: String, ParameterKey { case address }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var address: Template

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    address = try context.template(try parameters.required(.address, hint: "e.g. {{ env.hosts.gate.address }}"))
  }

  public var declaredOutputs: Set<String>? { ["address", "interface"] }

  public func plan(_ context: PlanContext) -> [String] {
    let value = (try? address.render(context.values)) ?? address.description
    return [
      "on \(context.step.host ?? "the host"): refuse if anything still answers at \(value) (arping -D, or ping)",
      "ip address add \(value)/<the subnet's prefix> on the interface that reaches it; arping -U to announce it",
    ]
  }

  static let script = RemoteScript.netTakeAddress

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let value = try context.render(address)
    let result = try await context.run(.argv(["sh", "-c", Self.script, "take-address", value], timeout: .seconds(60)))
    guard result.succeeded else {
      throw StepFailure(
        .failed, "cannot take over \(value) on \(context.step.host ?? "the host"): \(result.stderrTail)")
    }
    let said = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    // "took over A/P on DEV" or "already here: DEV A/P"
    let words = said.split(separator: " ").map(String.init)
    let device = said.hasPrefix("already here: ") ? (words.count > 2 ? words[2] : "") : (words.last ?? "")
    return StepResult(outputs: ["address": value, "interface": device])
  }
}
