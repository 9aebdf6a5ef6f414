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
  public static let parameterKeys: [String] = []
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {}

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
    let answer = try await context.ask(Question(
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
      throw StepFailure(.failed, "\(host) (\(address)) still does not answer over SSH with a known host key; provision it, then resume")
    }
    return StepResult(outputs: ["replacement": "new", "hostname": name, "address": address])
  }

  static func hostname(_ context: StepContext) async -> String? {
    guard let result = try? await context.run(.argv(["hostname"], timeout: .seconds(30)), quiet: true), result.succeeded else { return nil }
    return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  static func address(of host: String, in environment: Environment) -> String {
    guard let spec = environment.host(host) else { return host }
    if case .ssh(let address, _, _) = spec.transport { return address }
    return "this machine"
  }
}

/// `wg.install`: the gate's WireGuard configuration from the newest `config/`
/// snapshot on the NAS, with its private key put back from the file the operator
/// gives (secure storage). The key is checked before anything changes: it must be
/// a WireGuard key, and its public key one that nexus-server has as a peer (when the
/// server answers). Written as `/etc/wireguard/IFACE.conf`, mode 0600 in a 0700
/// directory, under a temporary name then renamed; a different file already there
/// is kept as `IFACE.conf.replaced-TIME`. The key never reaches a log, the journal or
/// the report: outputs are the snapshot, the path and the public key.
public struct WireGuardInstallAction: StepAction {
  public static let name = "wg.install"
  public static let parameterKeys = ["key_file", "interface"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var keyFile: Template
  public var interface: String

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    keyFile = try context.template(try parameters.required("key_file", hint: "the path of the gate's private key from secure storage, e.g. {{ inputs.key_file }}"))
    interface = try parameters["interface"]?.string() ?? "wg0"
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
    guard let nas = context.environment.nas else { throw StepFailure(.failed, "no nas section in the inventory: no configuration snapshot to install") }
    let host = context.step.host ?? "gate-standby"

    // The snapshot, read through the server (the NAS is mounted there).
    let find = try await context.run(.argv(["sh", "-c", #"ls -1d "$1"/config/*/gate/etc/wireguard/"$2".conf 2>/dev/null | sort | tail -n 1"#, "wg-snapshot", nas.path, interface], timeout: .seconds(60)), on: "server", quiet: true)
    let snapshot = find.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard find.succeeded, !snapshot.isEmpty else {
      throw StepFailure(.failed, "no snapshot of the gate's \(interface).conf under \(nas.path)/config on the NAS (config-snapshot has not run, or the NAS is not mounted)")
    }
    let read = try await context.run(.argv(["cat", "--", snapshot], timeout: .seconds(60)), on: "server", quiet: true)
    guard read.succeeded else { throw StepFailure(.failed, "cannot read \(snapshot) on the server: \(read.stderrTail)") }
    var config = WireGuardConfig(text: read.stdoutText)
    guard let interfaceSection = config.interface else { throw StepFailure(.failed, "\(snapshot) has no [Interface] section") }
    guard let current = config.value(of: "PrivateKey", in: interfaceSection) else {
      throw StepFailure(.failed, "\(snapshot) has no PrivateKey line in [Interface]")
    }
    guard current == "[REDACTED]" else {
      throw StepFailure(.failed, "\(snapshot): the PrivateKey line is not the redaction nexus-dr writes; refusing to use a snapshot that may hold a key")
    }

    // The key, from the operator's file, checked before anything changes.
    let path = try context.render(keyFile)
    guard !path.isEmpty else {
      throw StepFailure(.failed, "no key file: give the gate's WireGuard private key from secure storage with --key-file PATH")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw StepFailure(.failed, "cannot read the key file \(path) (missing, or not readable by this user)")
    }
    let keyText = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let publicKey: String
    do { publicKey = try WireGuardKey.publicKey(ofPrivate: keyText) } catch {
      throw StepFailure(.failed, "\(path) is \(error.reason)")
    }
    let check = try? await context.run(.argv(["wg", "show", interface, "peers"], timeout: .seconds(30)), on: "server", quiet: true)
    if let check, check.succeeded {
      let peers = check.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
      guard peers.contains(publicKey) else {
        throw StepFailure(.failed, "the key in \(path) is not nexus-gate's: its public key \(publicKey) is not a peer of nexus-server's \(interface) (peers there: \(peers.joined(separator: ", ")))")
      }
      context.console.line("    the key's public key \(publicKey) is nexus-server's peer")
    } else {
      context.console.line("    nexus-server's \(interface) could not be asked; the key's public key is \(publicKey)")
    }
    config.set("PrivateKey", to: keyText, in: interfaceSection)
    let stillRedacted = config.lines.compactMap { WireGuardConfig.setting($0) }.filter { $0.value == "[REDACTED]" }.map(\.key)
    guard stillRedacted.isEmpty else {
      throw StepFailure(.failed, "\(snapshot) has other redacted settings (\(stillRedacted.joined(separator: ", "))) that this step cannot put back; install the configuration by hand (wg0.conf, mode 0600) and resume")
    }
    let content = Array(config.text.utf8)
    let digest = Digest.sha256Hex(content)

    // Install: same content already there → nothing; a different file → kept aside.
    let target = "/etc/wireguard/\(interface).conf"
    let stamp = JournalTime.compact(Date())
    var write = HostCommand(.argv(["sh", "-c", Self.installScript, "wg-install", target, digest, stamp]), timeout: .seconds(60))
    write.stdin = content
    let result = try await context.run(write, on: host, quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot install \(target) on \(host): \(result.stderrTail)") }
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
  static let installScript = #"""
    set -eu
    target=$1; want=$2; stamp=$3; umask 077
    dir=$(dirname "$target"); mkdir -p "$dir"; chmod 0700 "$dir"
    tmp="$target.nexus-dr-new"
    cat > "$tmp"; chmod 0600 "$tmp"; sync "$tmp" 2>/dev/null || sync
    [ "$(sha256sum < "$tmp" | cut -d' ' -f1)" = "$want" ] || { rm -f "$tmp"; echo "the file written differs from what was sent" >&2; exit 1; }
    if [ -e "$target" ]; then
      if [ "$(sha256sum < "$target" | cut -d' ' -f1)" = "$want" ]; then rm -f "$tmp"; chmod 0600 "$target"; echo "already installed"; exit 0; fi
      mv -f "$target" "$target.replaced-$stamp"; kept="$target.replaced-$stamp"
    fi
    mv -f "$tmp" "$target"
    [ "$(stat -c %a "$target")" = 600 ] || { echo "$target is not mode 0600" >&2; exit 1; }
    [ -n "${kept:-}" ] && echo "replaced $kept" || echo "installed"
    """#
}

/// `net.take-address`: the gate's LAN address moves to this host. Refuses while
/// anything still answers at the address (ARP duplicate-address detection; ping
/// without arping), so a half-dead gate is never fought over; then adds it to the
/// interface that reaches that subnet, with the subnet's prefix, and announces it
/// (gratuitous ARP) so neighbours update at once. Already there: nothing to do.
public struct TakeAddressAction: StepAction {
  public static let name = "net.take-address"
  public static let parameterKeys = ["address"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var address: Template

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    address = try context.template(try parameters.required("address", hint: "e.g. {{ env.hosts.gate.address }}"))
  }

  public var declaredOutputs: Set<String>? { ["address", "interface"] }

  public func plan(_ context: PlanContext) -> [String] {
    let value = (try? address.render(context.values)) ?? address.description
    return [
      "on \(context.step.host ?? "the host"): refuse if anything still answers at \(value) (arping -D, or ping)",
      "ip address add \(value)/<the subnet's prefix> on the interface that reaches it; arping -U to announce it",
    ]
  }

  static let script = #"""
    set -u
    addr=$1
    case $addr in *[!0-9.]*|"") echo "'$addr' is not an IPv4 address; a DNS name cannot be taken over: give the gate's address" >&2; exit 2;; esac
    if ip -o -4 addr show | grep -q " inet $addr/"; then
      echo "already here: $(ip -o -4 addr show | grep " inet $addr/" | awk '{print $2, $4}')"; exit 0
    fi
    route=$(ip -o route get "$addr" 2>/dev/null) || { echo "no route from this host to $addr" >&2; exit 1; }
    case $route in *" via "*) echo "$addr is not on a subnet this host is on ($route): it cannot take it over" >&2; exit 1;; esac
    dev=$(printf '%s\n' "$route" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
    [ -n "$dev" ] || { echo "no interface toward $addr" >&2; exit 1; }
    prefix=$(ip -o -4 addr show dev "$dev" | awk '{print $4}' | head -n 1 | cut -d/ -f2)
    [ -n "$prefix" ] || { echo "$dev has no IPv4 address to take the prefix from" >&2; exit 1; }
    # iputils' arping (its -D is duplicate-address detection; another arping's -D is not).
    iputils=no; arping -V 2>&1 | grep -q iputils && iputils=yes
    if [ $iputils = yes ]; then
      arping -D -q -c 2 -w 2 -I "$dev" "$addr" || { echo "$addr still answers on $dev (ARP): the old gate is still on the network. Power it off or unplug it, then resume." >&2; exit 3; }
    else
      if ping -c 2 -W 1 "$addr" >/dev/null 2>&1 || ip neigh show "$addr" dev "$dev" | grep -q 'lladdr.*REACHABLE'; then
        echo "$addr still answers: the old gate is still on the network. Power it off or unplug it, then resume." >&2; exit 3
      fi
    fi
    ip address add "$addr/$prefix" dev "$dev" || { echo "ip address add $addr/$prefix dev $dev failed" >&2; exit 1; }
    [ $iputils = yes ] && arping -q -U -c 2 -w 3 -I "$dev" "$addr" || true
    echo "took over $addr/$prefix on $dev"
    """#

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let value = try context.render(address)
    let result = try await context.run(.argv(["sh", "-c", Self.script, "take-address", value], timeout: .seconds(60)))
    guard result.succeeded else { throw StepFailure(.failed, "cannot take over \(value) on \(context.step.host ?? "the host"): \(result.stderrTail)") }
    let said = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    // "took over A/P on DEV" or "already here: DEV A/P"
    let words = said.split(separator: " ").map(String.init)
    let device = said.hasPrefix("already here: ") ? (words.count > 2 ? words[2] : "") : (words.last ?? "")
    return StepResult(outputs: ["address": value, "interface": device])
  }
}

/// `wg.up`: (re)starts `wg-quick@IFACE` through systemctl and checks that the
/// interface runs with the expected public key and its listen port.
public struct WireGuardUpAction: StepAction {
  public static let name = "wg.up"
  public static let parameterKeys = ["interface", "public_key"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var interface: String
  public var publicKey: Template?

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    interface = try parameters["interface"]?.string() ?? "wg0"
    publicKey = try parameters["public_key"].map { value throws(ConfigError) in try context.template(value) }
  }

  public var declaredOutputs: Set<String>? { ["public_key", "listen_port", "address"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["systemctl restart wg-quick@\(interface), systemctl enable wg-quick@\(interface); then wg show \(interface): its public key must be the installed one"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let restart = try await context.run(.argv(["systemctl", "restart", "wg-quick@\(interface)"], timeout: .seconds(60)))
    guard restart.succeeded else { throw StepFailure(.failed, "systemctl restart wg-quick@\(interface) failed: \(restart.stderrTail)") }
    // Up again after a reboot too.
    let enable = try await context.run(.argv(["systemctl", "enable", "wg-quick@\(interface)"], timeout: .seconds(60)), quiet: true)
    guard enable.succeeded else { throw StepFailure(.failed, "systemctl enable wg-quick@\(interface) failed: \(enable.stderrTail)") }
    let show = try await context.run(.argv(["sh", "-c", #"wg show "$1" public-key && wg show "$1" listen-port && ip -o -4 addr show dev "$1" | awk '{print $4}' | head -n 1 | cut -d/ -f1"#, "wg-show", interface], timeout: .seconds(30)), quiet: true)
    let lines = show.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
    guard show.succeeded, lines.count >= 2 else { throw StepFailure(.failed, "\(interface) is not up after the restart: \(show.stderrTail)") }
    if let publicKey {
      let expected = try context.render(publicKey)
      guard lines[0] == expected else { throw StepFailure(.failed, "\(interface) runs with public key \(lines[0]), not the installed \(expected)") }
    }
    let address = lines.count > 2 ? lines[2] : ""
    context.console.line("    \(interface) up: public key \(lines[0]), port \(lines[1])\(address.isEmpty ? "" : ", address \(address)")")
    return StepResult(outputs: ["public_key": lines[0], "listen_port": lines[1], "address": address])
  }
}

/// `wg.handshakes`: waits (up to `within`) until every peer of IFACE on the host —
/// or only `peer`, a public key — has a handshake from the last three minutes;
/// with `traffic_from`, that host must also reach `traffic_to` (default: the
/// interface's own tunnel address) through the tunnel, which also makes a peer
/// that only sends keepalives handshake again at once.
public struct WireGuardHandshakesAction: StepAction {
  public static let name = "wg.handshakes"
  public static let parameterKeys = ["interface", "within", "peer", "traffic_from", "traffic_to"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var interface: String
  public var within: Duration
  public var peer: Template?
  public var trafficFrom: String?
  public var trafficTo: Template?

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    interface = try parameters["interface"]?.string() ?? "wg0"
    within = try parameters["within"]?.duration() ?? .seconds(180)
    peer = try parameters["peer"].map { value throws(ConfigError) in try context.template(value) }
    trafficTo = try parameters["traffic_to"].map { value throws(ConfigError) in try context.template(value) }
    if let value = parameters["traffic_from"] {
      let host = try value.string()
      guard HostRole.all.contains(host) else {
        throw value.error(.unknownHost, "unknown host '\(host)'", hint: YAMLValue.suggestion(for: host, among: HostRole.all))
      }
      trafficFrom = host
    }
  }

  public var declaredOutputs: Set<String>? { ["peers", "waited", "traffic"] }

  public func plan(_ context: PlanContext) -> [String] {
    var lines = ["wait up to \(DurationText.format(within)) until \(peer == nil ? "every peer" : "the peer") of \(interface) on \(context.step.host ?? "the host") has a handshake from the last 3 minutes"]
    if let trafficFrom { lines.append("\(trafficFrom) pings \(trafficTo?.description ?? "the host's tunnel address") through the tunnel") }
    return lines
  }

  static let recent: Int = 180

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let host = context.step.host ?? "gate"
    let wanted = try peer.map { template throws(StepFailure) in try context.render(template) }
    var target = try trafficTo.map { template throws(StepFailure) in try context.render(template) } ?? ""
    if trafficFrom != nil, target.isEmpty {
      let address = try await context.run(.argv(["sh", "-c", #"ip -o -4 addr show dev "$1" | awk '{print $4}' | head -n 1 | cut -d/ -f1"#, "wg-address", interface], timeout: .seconds(30)), quiet: true)
      target = address.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !target.isEmpty else { throw StepFailure(.failed, "\(interface) on \(host) has no IPv4 address to send traffic to") }
    }
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + within
    var reached = trafficFrom == nil
    var missing: [String] = []
    var names: [String: String] = [:]
    while true {
      let show = try await context.run(.argv(["sh", "-c", #"date +%s; wg show "$1" latest-handshakes; echo --; wg show "$1" allowed-ips"#, "wg-handshakes", interface], timeout: .seconds(30)), on: host, quiet: true)
      guard show.succeeded else { throw StepFailure(.failed, "wg show \(interface) on \(host) failed: \(show.stderrTail)") }
      let parts = show.stdoutText.components(separatedBy: "\n--\n")
      var lines = parts[0].split(whereSeparator: \.isNewline)
      let now = Int(lines.removeFirst()) ?? 0
      var fresh: [String: Bool] = [:]
      for line in lines {
        let fields = line.split(separator: "\t")
        guard fields.count == 2 else { continue }
        let epoch = Int(fields[1]) ?? 0
        fresh[String(fields[0])] = epoch > 0 && now - epoch <= Self.recent
      }
      for line in (parts.count > 1 ? parts[1] : "").split(whereSeparator: \.isNewline) {
        let fields = line.split(separator: "\t")
        if fields.count == 2 { names[String(fields[0])] = String(fields[1]) }
      }
      if let wanted, fresh[wanted] == nil {
        throw StepFailure(.failed, "\(interface) on \(host) has no peer \(wanted) (peers: \(fresh.keys.sorted().joined(separator: ", ")))")
      }
      let considered = wanted.map { [$0] } ?? fresh.keys.sorted()
      missing = considered.filter { fresh[$0] != true }
      if !reached, let trafficFrom {
        let ping = try? await context.run(.argv(["ping", "-c", "1", "-W", "1", target], timeout: .seconds(10)), on: trafficFrom, quiet: true)
        reached = ping?.succeeded == true
      }
      if missing.isEmpty && reached {
        let waited = (clock.now - start).milliseconds
        let traffic = trafficFrom.map { "\($0) reaches \(target) through the tunnel" } ?? ""
        context.console.line("    \(considered.count) peer(s) with a recent handshake after \(DurationText.format(.milliseconds(waited)))\(traffic.isEmpty ? "" : "; \(traffic)")")
        return StepResult(outputs: ["peers": String(considered.count), "waited": "\(waited) ms", "traffic": traffic])
      }
      if clock.now >= deadline { break }
      do { try await Task.sleep(for: .seconds(1)) } catch { throw StepFailure(.interrupted, "interrupted while waiting for handshakes") }
    }
    var problems = missing.map { "no recent handshake from \($0) (\(names[$0] ?? "?"))" }
    if !reached, let trafficFrom { problems.append("\(trafficFrom) does not reach \(target) through the tunnel") }
    throw StepFailure(.failed, "after \(DurationText.format(within)) on \(host): \(problems.joined(separator: "; "))")
  }
}
