import Foundation
import NexusCore
import NexusTransport

/// `wg.install`: the gate's WireGuard configuration from the newest `config/`
/// snapshot on the NAS, with its private key put back from the file the operator
/// gives (secure storage). The key is checked before anything changes: it must be
/// a WireGuard key, and its public key one that nexus-server has as a peer (when the
/// server answers). Written as `/etc/wireguard/IFACE.conf`, mode 0600 in a 0700
/// directory, under a temporary name then renamed; a different file already there
/// is kept as `IFACE.conf.replaced-TIME`. The key never reaches a log, the journal or
/// the report: outputs are the snapshot, the path and the public key.
public struct WGInstallAction: StepAction {
  public static let name = "wg.install"
  public enum Parameter: String, ParameterKey {
    case keyFile = "key_file"
    case interface
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var keyFile: Template
  public var interface: String

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    keyFile = try context.template(
      try parameters.required(
        .keyFile, hint: "the path of the gate's private key from secure storage, e.g. {{ inputs.key_file }}"))
    interface = try parameters[.interface]?.string() ?? "wg0"
  }

  public var declaredOutputs: Set<String>? { ["snapshot", "path", "public_key", "peers", "replaced"] }

  public func plan(_ context: PlanContext) -> [String] {
    let nas = context.values.environment["nas.path"] ?? "the NAS"
    return [
      "read the newest \(nas)/config/*/gate/etc/wireguard/\(interface).conf (its PrivateKey is redacted)",
      "read the private key from \((try? keyFile.render(context.values)) ?? keyFile.description) on this machine; check it is nexus-gate's (its public key is a peer of nexus-server)",
      "write /etc/wireguard/\(interface).conf on \(context.step.host ?? "the host") with the key put back: mode 0600, temporary name then rename; a different file there is kept as .replaced-<time>",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else {
      throw StepFailure(.failed, "no nas section in the inventory: no configuration snapshot to install")
    }
    let host = context.step.host ?? "gate-standby"

    // The snapshot, read through the server (the NAS is mounted there).
    let find = try await context.run(
      .argv(
        [
          "sh", "-c", #"ls -1d "$1"/config/*/gate/etc/wireguard/"$2".conf 2>/dev/null | sort | tail -n 1"#,
          "wg-snapshot", nas.path, interface,
        ], timeout: .seconds(60)), on: "server", quiet: true)
    let snapshot = find.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard find.succeeded, !snapshot.isEmpty else {
      throw StepFailure(
        .failed,
        "no snapshot of the gate's \(interface).conf under \(nas.path)/config on the NAS (config-snapshot has not run, or the NAS is not mounted)"
      )
    }
    let read = try await context.run(.argv(["cat", "--", snapshot], timeout: .seconds(60)), on: "server", quiet: true)
    guard read.succeeded else {
      throw StepFailure(.failed, "cannot read \(snapshot) on the server: \(read.stderrTail)")
    }
    var config = WireGuardConfig(text: read.stdoutText)
    guard let interfaceSection = config.interface else {
      throw StepFailure(.failed, "\(snapshot) has no [Interface] section")
    }
    guard let current = config.value(of: "PrivateKey", in: interfaceSection) else {
      throw StepFailure(.failed, "\(snapshot) has no PrivateKey line in [Interface]")
    }
    guard current == "[REDACTED]" else {
      throw StepFailure(
        .failed,
        "\(snapshot): the PrivateKey line is not the redaction nexus-dr writes; refusing to use a snapshot that may hold a key"
      )
    }

    // The key, from the operator's file, checked before anything changes.
    let path = try context.render(keyFile)
    guard !path.isEmpty else {
      throw StepFailure(
        .failed, "no key file: give the gate's WireGuard private key from secure storage with --key-file PATH")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw StepFailure(.failed, "cannot read the key file \(path) (missing, or not readable by this user)")
    }
    let keyText = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let publicKey: String
    do { publicKey = try WireGuardKey.publicKey(ofPrivate: keyText) } catch {
      throw StepFailure(.failed, "\(path) is \(error.reason)")
    }
    let check = try? await context.run(
      .argv(["wg", "show", interface, "peers"], timeout: .seconds(30)), on: "server", quiet: true)
    if let check, check.succeeded {
      let peers = check.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
      guard peers.contains(publicKey) else {
        throw StepFailure(
          .failed,
          "the key in \(path) is not nexus-gate's: its public key \(publicKey) is not a peer of nexus-server's \(interface) (peers there: \(peers.joined(separator: ", ")))"
        )
      }
      context.console.line("    the key's public key \(publicKey) is nexus-server's peer")
    } else {
      context.console.line("    nexus-server's \(interface) could not be asked; the key's public key is \(publicKey)")
    }
    config.set("PrivateKey", to: keyText, in: interfaceSection)
    let stillRedacted = config.lines.compactMap { WireGuardConfig.setting($0) }.filter { $0.value == "[REDACTED]" }.map(
      \.key)
    guard stillRedacted.isEmpty else {
      throw StepFailure(
        .failed,
        "\(snapshot) has other redacted settings (\(stillRedacted.joined(separator: ", "))) that this step cannot put back; install the configuration by hand (wg0.conf, mode 0600) and resume"
      )
    }
    let content = Array(config.text.utf8)
    let digest = Digest.sha256Hex(content)

    // Install: same content already there → nothing; a different file → kept aside.
    let target = "/etc/wireguard/\(interface).conf"
    let stamp = JournalTime.compact(Date())
    var write = HostCommand(
      .argv(["sh", "-c", Self.installScript, "wg-install", target, digest, stamp]), timeout: .seconds(60))
    write.stdin = content
    let result = try await context.run(write, on: host, quiet: true)
    guard result.succeeded else {
      throw StepFailure(.failed, "cannot install \(target) on \(host): \(result.stderrTail)")
    }
    let said = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    let replaced = said.hasPrefix("replaced ") ? String(said.dropFirst("replaced ".count)) : ""
    context.console.line("    \(target) on \(host): \(said.isEmpty ? "installed" : said) (from \(snapshot), mode 0600)")
    return StepResult(outputs: [
      "snapshot": snapshot, "path": target, "public_key": publicKey,
      "peers": String(config.peers.count), "replaced": replaced,
    ])
  }

  /// stdin → TARGET (0600, 0700 directory) unless it already has that sha256; a
  /// different file there is renamed to TARGET.replaced-STAMP first. Checks the result.
  static let installScript = RemoteScript.durable + RemoteScript.wgInstall
}
