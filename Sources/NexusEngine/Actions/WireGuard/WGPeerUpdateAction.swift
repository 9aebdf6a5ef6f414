import Foundation
import NexusCore
import NexusTransport

/// `wg.peer-update`: on the gate, the `[Peer]` of a host that got a new WireGuard key
/// (found by its tunnel address in `AllowedIPs`) gets the new `PublicKey` — and, when
/// the block has an `Endpoint`, the new address — with every other byte of the file
/// kept. Written under a temporary name, checked, renamed (the file before the edit
/// is kept as `IFACE.conf.before-TIME`, 0600), then applied with `wg syncconf`, which
/// changes that peer without dropping any other tunnel.
public struct WGPeerUpdateAction: StepAction {
  public static let name = "wg.peer-update"
  public enum Parameter: String, ParameterKey {
    case interface
    case allowedIp = "allowed_ip"
    case publicKey = "public_key"
    case endpoint
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var interface: String
  public var allowedIP: Template
  public var publicKey: Template
  public var endpoint: Template?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    interface = try parameters[.interface]?.string() ?? "wg0"
    allowedIP = try context.template(
      try parameters.required(
        .allowedIp, hint: "the peer's tunnel address, e.g. {{ steps.server-tunnel.output.address }}"))
    publicKey = try context.template(try parameters.required(.publicKey, hint: "the peer's new public key"))
    endpoint = try parameters[.endpoint].map { value throws(ConfigError) in try context.template(value) }
  }

  public var declaredOutputs: Set<String>? { ["old_public_key", "public_key", "changed"] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "in /etc/wireguard/\(interface).conf on \(context.step.host ?? "the gate"): the [Peer] whose AllowedIPs is \((try? allowedIP.render(context.values)) ?? allowedIP.description) gets the new PublicKey (and Endpoint address, if it has one); nothing else changes",
      "temporary file, checked, renamed (the old file kept as \(interface).conf.before-<time>); wg syncconf \(interface) (other tunnels stay up)",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let path = "/etc/wireguard/\(interface).conf"
    let address = try context.render(allowedIP)
    let newKey = try context.render(publicKey)
    guard WireGuardKey.isPublicKey(newKey) else {
      throw StepFailure(.failed, "'\(newKey)' is not a WireGuard public key")
    }
    let newEndpoint = try endpoint.map { template throws(StepFailure) in try context.render(template) } ?? ""
    // The file holds the gate's private key: read quietly, kept in memory, never output.
    let read = try await context.run(.argv(["cat", "--", path], timeout: .seconds(30)), quiet: true)
    guard read.succeeded, !read.stdoutTruncated, let text = String(validating: read.stdout, as: UTF8.self) else {
      throw StepFailure(
        .failed, "cannot read \(path) on \(context.step.host ?? "the gate") whole and as UTF-8: \(read.stderrTail)")
    }
    var config = WireGuardConfig(text: text)
    guard let peer = config.peer(allowing: address) else {
      throw StepFailure(
        .failed,
        "\(path) has no [Peer] with AllowedIPs \(address); add the peer by hand (wg0.conf and wg set) and resume")
    }
    let oldKey = config.value(of: "PublicKey", in: peer) ?? ""
    config.set("PublicKey", to: newKey, in: peer)
    if !newEndpoint.isEmpty, let current = config.value(of: "Endpoint", in: peer),
      let colon = current.lastIndex(of: ":"), let updated = config.peer(allowing: address)
    {
      config.set("Endpoint", to: newEndpoint + current[colon...], in: updated)
    }
    let changed = config.text != text
    if changed {
      let content = Array(config.text.utf8)
      let digest = Digest.sha256Hex(content)
      var write = HostCommand(
        .argv(["sh", "-c", Self.writeScript, "wg-edit", path, digest, JournalTime.compact(Date())]),
        timeout: .seconds(60))
      write.stdin = content
      let written = try await context.run(write, quiet: true)
      guard written.succeeded else {
        throw StepFailure(.failed, "cannot write \(path): \(written.stderrTail); the file is as it was")
      }
      context.console.line(
        "    \(path): the peer \(address) now has PublicKey \(newKey) (was \(oldKey)); the file before is kept as \(written.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))"
      )
    } else {
      context.console.line("    \(path): the peer \(address) has PublicKey \(newKey) already")
    }
    // Test-only: NEXUS_DR_CRASH_AT=STEP:after-write dies like kill -9 with the file edited, not yet applied.
    FaultInjection.crashIfRequested(step: context.step.id, phase: "after-write")
    // syncconf with an empty configuration would remove every peer: strip first, check, then apply.
    let sync = try await context.run(
      .argv(["bash", "-c", RemoteScript.wgSyncconf, "wg-syncconf", interface, path], timeout: .seconds(60)), quiet: true
    )
    guard sync.succeeded else { throw StepFailure(.failed, "wg syncconf \(interface) failed: \(sync.stderrTail)") }
    let peers = sync.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
    guard peers.contains(newKey), oldKey == newKey || !peers.contains(oldKey) else {
      throw StepFailure(
        .failed,
        "after wg syncconf, \(interface)'s peers are \(peers.joined(separator: ", ")): the new key is not applied")
    }
    context.console.line("    applied with wg syncconf: \(peers.count) peer(s), the others' tunnels untouched")
    return StepResult(outputs: ["old_public_key": oldKey, "public_key": newKey, "changed": changed ? "true" : "false"])
  }

  static let writeScript = RemoteScript.durable + RemoteScript.wgPeerWrite
}
