import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr gateway-failure`: the gateway scenario (runbooks/gateway-failure.yaml).
  struct GatewayFailure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gateway-failure",
      abstract: "Replace a dead nexus-gate: the standby (or a new Pi) gets the gate's WireGuard configuration and key, its address, and the tunnel.",
      discussion: """
        Questions: manual.replacement (only when the standby does not answer), confirm.install-config, \
        manual.old-gate (and resume.STEP-ID on resume). See docs/operator-guide.md.
        """)

    @OptionGroup var options: CommonOptions
    @Option(help: "nexus-gate's WireGuard private key from secure storage (a file on this machine; read, never logged). Required.")
    var keyFile: String?

    func run() async throws {
      // The key is checked before the run starts (exit 2): an operator who gave the wrong
      // file fixes the path and starts again, with nothing touched.
      guard let keyFile else {
        Console.error("error: gateway-failure needs --key-file PATH: nexus-gate's WireGuard private key from secure storage")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      let path = URL(fileURLWithPath: keyFile).standardizedFileURL.path
      guard let data = FileManager.default.contents(atPath: path) else {
        Console.error("error: --key-file \(path): cannot read it (missing, or not readable by this user)")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      do { _ = try WireGuardKey.publicKey(ofPrivate: String(decoding: data, as: UTF8.self)) } catch {
        Console.error("error: --key-file \(path) is \(error.reason)")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      try await RunInvocation(runbook: "gateway-failure", inputs: ["key_file": path], options: options).run()
    }
  }
}
