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
