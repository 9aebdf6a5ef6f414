import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr gateway-failure`: the gateway scenario (runbooks/gateway-failure.yaml).
  struct GatewayFailure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gateway-failure",
      abstract:
        "Replace a dead nexus-gate: the standby (or a new Pi) gets the gate's WireGuard configuration and key, its address, and the tunnel.",
      discussion: """
        Questions: manual.replacement (only when the standby does not answer), confirm.install-config, \
        manual.old-gate (and resume.STEP-ID on resume). See docs/operator-guide.md.
        """)

    @OptionGroup var options: CommonOptions
    @Option(
      help:
        "nexus-gate's WireGuard private key from secure storage (a file on this machine; read, never logged). The recovery needs --key-file: the replacement takes over the tunnel with the gate's own key."
    )
    var keyFile: String

    /// The key file as given, made absolute.
    var keyPath: String { URL(fileURLWithPath: keyFile).standardizedFileURL.path }

    /// The key is checked before the run starts (exit 2): an operator who gave the wrong
    /// file fixes the path and starts again, with nothing touched.
    func validate() throws {
      guard let data = FileManager.default.contents(atPath: keyPath) else {
        throw ValidationError("--key-file \(keyPath): cannot read it (missing, or not readable by this user)")
      }
      do { _ = try WireGuardKey.publicKey(ofPrivate: String(decoding: data, as: UTF8.self)) } catch {
        throw ValidationError("--key-file \(keyPath) is \(error.reason)")
      }
    }

    func run() async throws {
      try await RunInvocation(runbook: Scenario.gatewayFailure.runbook, inputs: ["key_file": keyPath], options: options)
        .run()
    }
  }
}
