import Foundation
import NexusCore
import NexusTransport

/// `wg.handshakes`: waits (up to `within`) until every peer of IFACE on the host —
/// or only `peer`, a public key — has a handshake from the last three minutes;
/// with `traffic_from`, that host must also reach `traffic_to` (default: the
/// interface's own tunnel address) through the tunnel, which also makes a peer
/// that only sends keepalives handshake again at once.
public struct WGHandshakesAction: StepAction {
  public static let name = "wg.handshakes"
  public enum Parameter: String, ParameterKey {
    case interface, within, peer
    case trafficFrom = "traffic_from"
    case trafficTo = "traffic_to"
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var interface: String
  public var within: Duration
  public var peer: Template?
  public var trafficFrom: String?
  public var trafficTo: Template?

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    interface = try parameters[.interface]?.string() ?? "wg0"
    within = try parameters[.within]?.duration() ?? .seconds(180)
    peer = try parameters[.peer].map { value throws(ConfigError) in try context.template(value) }
    trafficTo = try parameters[.trafficTo].map { value throws(ConfigError) in try context.template(value) }
    if let value = parameters[.trafficFrom] {
      let host = try value.string()
      guard HostRole.all.contains(host) else {
        throw value.error(
          .unknownHost, "unknown host '\(host)'", hint: YAMLValue.suggestion(for: host, among: HostRole.all))
      }
      trafficFrom = host
    }
  }

  public var declaredOutputs: Set<String>? { ["peers", "waited", "traffic"] }

  public func plan(_ context: PlanContext) -> [String] {
    var lines = [
      "wait up to \(DurationText.format(within)) until \(peer == nil ? "every peer" : "the peer") of \(interface) on \(context.step.host ?? "the host") has a handshake from the last 3 minutes"
    ]
    if let trafficFrom {
      lines.append("\(trafficFrom) pings \(trafficTo?.description ?? "the host's tunnel address") through the tunnel")
    }
    return lines
  }

  static let recent: Int = 180

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let host = context.step.host ?? "gate"
    let wanted = try peer.map { template throws(StepFailure) in try context.render(template) }
    var target = try trafficTo.map { template throws(StepFailure) in try context.render(template) } ?? ""
    if trafficFrom != nil, target.isEmpty {
      let address = try await context.run(
        .argv(
          [
            "sh", "-c", #"ip -o -4 addr show dev "$1" | awk '{print $4}' | head -n 1 | cut -d/ -f1"#, "wg-address",
            interface,
          ], timeout: .seconds(30)), quiet: true)
      target = address.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !target.isEmpty else {
        throw StepFailure(.failed, "\(interface) on \(host) has no IPv4 address to send traffic to")
      }
    }
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + within
    var reached = trafficFrom == nil
    var missing: [String] = []
    var names: [String: String] = [:]
    while true {
      let show = try await context.run(
        .argv(
          [
            "sh", "-c", #"date +%s; wg show "$1" latest-handshakes; echo --; wg show "$1" allowed-ips"#,
            "wg-handshakes", interface,
          ], timeout: .seconds(30)), on: host, quiet: true)
      guard show.succeeded else {
        throw StepFailure(.failed, "wg show \(interface) on \(host) failed: \(show.stderrTail)")
      }
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
        throw StepFailure(
          .failed,
          "\(interface) on \(host) has no peer \(wanted) (peers: \(fresh.keys.sorted().joined(separator: ", ")))")
      }
      let considered = wanted.map { [$0] } ?? fresh.keys.sorted()
      missing = considered.filter { fresh[$0] != true }
      if !reached, let trafficFrom {
        let ping = try? await context.run(
          .argv(["ping", "-c", "1", "-W", "1", target], timeout: .seconds(10)), on: trafficFrom, quiet: true)
        reached = ping?.succeeded == true
      }
      if missing.isEmpty && reached {
        let waited = (clock.now - start).milliseconds
        let traffic = trafficFrom.map { "\($0) reaches \(target) through the tunnel" } ?? ""
        context.console.line(
          "    \(considered.count) peer(s) with a recent handshake after \(DurationText.format(.milliseconds(waited)))\(traffic.isEmpty ? "" : "; \(traffic)")"
        )
        return StepResult(outputs: ["peers": String(considered.count), "waited": "\(waited) ms", "traffic": traffic])
      }
      if clock.now >= deadline { break }
      do { try await Task.sleep(for: .seconds(1)) } catch {
        throw StepFailure(.interrupted, "interrupted while waiting for handshakes")
      }
    }
    var problems = missing.map { "no recent handshake from \($0) (\(names[$0] ?? "?"))" }
    if !reached, let trafficFrom { problems.append("\(trafficFrom) does not reach \(target) through the tunnel") }
    throw StepFailure(.failed, "after \(DurationText.format(within)) on \(host): \(problems.joined(separator: "; "))")
  }
}
