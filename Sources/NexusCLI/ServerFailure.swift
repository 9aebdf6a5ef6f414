import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr server-failure`: the dead-server scenario (runbooks/server-failure.yaml).
  struct ServerFailure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "server-failure",
      abstract:
        "Rebuild a dead nexus-server: verify the new machine, set it up, restore configuration, secrets and the database from the NAS, re-key its tunnel on the gate.",
      discussion: """
        Questions: manual.provision, fingerprint.new-server (when the new host key is not trusted yet), \
        manual.secrets (only for secrets not found in --secrets-dir), choose.choose-restore-point, \
        confirm.restore (or the dump's), confirm.gate-peer, manual.confirm-resync (and resume.STEP-ID \
        on resume). See docs/operator-guide.md.
        """)

    @OptionGroup var options: CommonOptions
    @Option(
      help: "Offer point-in-time recovery to this time, e.g. 2026-11-27T14:03:00Z (or 2026-11-27 15:03, local time).")
    var targetTime: String?
    @Option(
      help:
        "A directory on this machine laid out like / with the server's secrets from secure storage (whole secret files; for a configuration file, its secret KEY = value lines)."
    )
    var secretsDir: String?
    @Option(help: "nexus-core's setup script on the new server (default /root/nexus-core/deploy/setup-server.sh).")
    var setupScript: String?

    /// The secrets directory as given, made absolute.
    var secretsPath: String? { secretsDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path } }

    func validate() throws {
      guard let secretsPath else { return }
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: secretsPath, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("--secrets-dir \(secretsPath) is not a directory on this machine")
      }
    }

    func run() async throws {
      let inputs = ["target_time": targetTime, "secrets_dir": secretsPath, "setup_script": setupScript].compactMapValues
      { $0 }
      try await RunInvocation(runbook: Scenario.serverFailure.runbook, inputs: inputs, options: options).run()
    }
  }
}
