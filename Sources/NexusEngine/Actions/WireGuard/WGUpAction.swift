import Foundation
import NexusCore
import NexusTransport

/// `wg.up`: (re)starts `wg-quick@IFACE` through systemctl and checks that the
/// interface runs with the expected public key and its listen port.
public struct WGUpAction: StepAction {
  public static let name = "wg.up"
  public enum Parameter: String, ParameterKey {
    case interface
    case publicKey = "public_key"
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var interface: String
  public var publicKey: Template?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    interface = try parameters[.interface]?.string() ?? "wg0"
    publicKey = try parameters[.publicKey].map { value throws(ConfigError) in try context.template(value) }
  }

  public var declaredOutputs: Set<String>? { ["public_key", "listen_port", "address"] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "systemctl restart wg-quick@\(interface), systemctl enable wg-quick@\(interface); then wg show \(interface): its public key must be the installed one"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let restart = try await context.run(
      .argv(["systemctl", "restart", "wg-quick@\(interface)"], timeout: .seconds(60)))
    guard restart.succeeded else {
      throw StepFailure(.failed, "systemctl restart wg-quick@\(interface) failed: \(restart.stderrTail)")
    }
    // Up again after a reboot too.
    let enable = try await context.run(
      .argv(["systemctl", "enable", "wg-quick@\(interface)"], timeout: .seconds(60)), quiet: true)
    guard enable.succeeded else {
      throw StepFailure(.failed, "systemctl enable wg-quick@\(interface) failed: \(enable.stderrTail)")
    }
    let show = try await context.run(
      .argv(
        [
          "sh", "-c",
          #"wg show "$1" public-key && wg show "$1" listen-port && ip -o -4 addr show dev "$1" | awk '{print $4}' | head -n 1 | cut -d/ -f1"#,
          "wg-show", interface,
        ], timeout: .seconds(30)), quiet: true)
    let lines = show.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
    guard show.succeeded, lines.count >= 2 else {
      throw StepFailure(.failed, "\(interface) is not up after the restart: \(show.stderrTail)")
    }
    if let publicKey {
      let expected = try context.render(publicKey)
      guard lines[0] == expected else {
        throw StepFailure(.failed, "\(interface) runs with public key \(lines[0]), not the installed \(expected)")
      }
    }
    let address = lines.count > 2 ? lines[2] : ""
    context.console.line(
      "    \(interface) up: public key \(lines[0]), port \(lines[1])\(address.isEmpty ? "" : ", address \(address)")")
    return StepResult(outputs: ["public_key": lines[0], "listen_port": lines[1], "address": address])
  }
}
