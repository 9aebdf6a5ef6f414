import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

/// `nexus-dr corrupt-db`: the corrupt-database scenario (runbooks/corrupt-db.yaml).
struct CorruptDBCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "corrupt-db",
    abstract: "Restore a damaged database: choose the restore point, keep the damaged copy aside, restore, verify, restart.",
    discussion: """
      Questions: choose.choose-restore-point (dump, pitr-latest, pitr-target), confirm.stop-services,
      confirm.pitr (point in time only), manual.confirm-resync (and resume.STEP-ID on resume).
      See docs/operator-guide.md.
      """)

  @OptionGroup var options: CommonOptions
  @Option(help: "Offer point-in-time recovery to this time, e.g. 2026-11-27T14:03:00Z (or 2026-11-27 15:03, local time).")
  var targetTime: String?

  func run() async throws {
    try await runScenario("corrupt-db", inputs: ["target_time": targetTime], options: options)
  }
}

/// `nexus-dr nas-failure`: the NAS scenario (runbooks/nas-failure.yaml).
struct NASFailureCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nas-failure",
    abstract: "Bring the NAS back: check the new mount, move the fallback's backups onto it (verified), prove it with a nightly and a weekly.",
    discussion: """
      Questions: manual.replace-nas, confirm.copy-back (and resume.STEP-ID on resume).
      See docs/operator-guide.md.
      """)

  @OptionGroup var options: CommonOptions

  func run() async throws {
    try await runScenario("nas-failure", inputs: [:], options: options)
  }
}

/// `nexus-dr gateway-failure`: the gateway scenario (runbooks/gateway-failure.yaml).
struct GatewayFailureCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gateway-failure",
    abstract: "Replace a dead nexus-gate: the standby (or a new Pi) gets the gate's WireGuard configuration and key, its address, and the tunnel.",
    discussion: """
      Questions: manual.replacement (only when the standby does not answer), confirm.install-config,
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
    try await runScenario("gateway-failure", inputs: ["key_file": path], options: options)
  }
}

/// `nexus-dr server-failure`: the dead-server scenario (runbooks/server-failure.yaml).
struct ServerFailureCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "server-failure",
    abstract: "Rebuild a dead nexus-server: verify the new machine, set it up, restore configuration, secrets and the database from the NAS, re-key its tunnel on the gate.",
    discussion: """
      Questions: manual.provision, fingerprint.new-server (when the new host key is not trusted yet),
      manual.secrets (only for secrets not found in --secrets-dir), choose.choose-restore-point,
      confirm.restore (or the dump's), confirm.gate-peer, manual.confirm-resync (and resume.STEP-ID
      on resume). See docs/operator-guide.md.
      """)

  @OptionGroup var options: CommonOptions
  @Option(help: "Offer point-in-time recovery to this time, e.g. 2026-11-27T14:03:00Z (or 2026-11-27 15:03, local time).")
  var targetTime: String?
  @Option(help: "A directory on this machine laid out like / with the server's secrets from secure storage (whole secret files; for a configuration file, its secret KEY = value lines).")
  var secretsDir: String?
  @Option(help: "nexus-core's setup script on the new server (default /root/nexus-core/deploy/setup-server.sh).")
  var setupScript: String?

  func run() async throws {
    var secretsPath: String?
    if let secretsDir {
      let path = URL(fileURLWithPath: secretsDir).standardizedFileURL.path
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
        Console.error("error: --secrets-dir \(path) is not a directory on this machine")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      secretsPath = path
    }
    try await runScenario(
      "server-failure", inputs: ["target_time": targetTime, "secrets_dir": secretsPath, "setup_script": setupScript], options: options)
  }
}

/// A scenario command is `nexus-dr run RUNBOOK` with its options turned into `--input`s
/// (the ones given; the runbook's defaults stand for the rest).
func runScenario(_ runbook: String, inputs: [String: String?], options: CommonOptions) async throws {
  var arguments = [runbook]
  for (name, value) in inputs.sorted(by: { $0.key < $1.key }) {
    if let value { arguments += ["--input", "\(name)=\(value)"] }
  }
  var command = try RunCommand.parse(arguments)
  command.options = options
  try await command.run()
}
