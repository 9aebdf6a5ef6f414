import Foundation
import NexusCore
import NexusTransport

/// `host.verify`: a (re)provisioned host answers over SSH with a host key nexus-dr
/// trusts and the expected hostname. When its key is not (or no longer) in the
/// inventory's known_hosts — a reinstalled machine has a new one — the operator
/// types the fingerprint shown on the host's console (question `fingerprint.ID`);
/// the key the host presents (ssh-keyscan) must have exactly that fingerprint, and
/// only then does it replace the address's old entry in known_hosts. Any other
/// key is refused: the wrong machine, or someone in between.
public struct HostVerifyAction: StepAction {
  public static let name = "host.verify"
  public static let parameterKeys = ["hostname"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var hostname: Template

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    hostname = try context.template(try parameters.required("hostname", hint: "the name the host must answer to `hostname`"))
  }

  public var declaredOutputs: Set<String>? { ["hostname", "fingerprint", "known_hosts"] }

  public func plan(_ context: PlanContext) -> [String] {
    let host = context.step.host ?? "the host"
    return [
      "connect to \(host) with strict host-key checking; `hostname` must answer \((try? hostname.render(context.values)) ?? hostname.description)",
      "a key not in known_hosts: ask for the fingerprint on the host's console (question fingerprint.\(context.step.id)); ssh-keyscan's key must match it, then it replaces the old entry",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let host = context.step.host ?? "server"
    let expected = try context.render(hostname)
    guard case .ssh(let address, let port, _) = context.environment.host(host)?.transport else {
      throw StepFailure(.failed, "\(host) is not reached over SSH in this environment; nothing to verify")
    }
    let knownHosts = context.environment.ssh.knownHosts
    var updated = "unchanged"
    var firstError = ""
    do {
      return try await answers(expected, host: host, knownHosts: updated, context: context)
    } catch {
      firstError = error.message
    }
    // Not trusted (or not answering): what key does it present?
    let scan = try await context.run(.argv(["ssh-keyscan", "-T", "10", "-p", String(port), "-t", "ed25519,ecdsa,rsa", address], timeout: .seconds(60)), on: nil, quiet: true, local: true)
    let keys = scan.stdoutText.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.hasPrefix("#") && $0.split(separator: " ").count >= 3 }
    guard !keys.isEmpty else {
      throw StepFailure(.failed, "\(host) (\(address):\(port)) does not answer SSH: \(firstError)")
    }
    var fingerprints: [(line: String, fingerprint: String, type: String, rank: Int)] = []
    for line in keys {
      var fingerprint = HostCommand(.argv(["ssh-keygen", "-l", "-E", "sha256", "-f", "-"]), timeout: .seconds(30))
      fingerprint.stdin = Array((line + "\n").utf8)
      let result = try await context.run(fingerprint, on: nil, quiet: true, local: true)
      let keyType = String(line.split(separator: " ")[1])
      if let value = result.stdoutText.split(separator: " ").dropFirst().first {
        fingerprints.append((line, String(value), KnownHosts.fileStem(keyType: keyType), KnownHosts.rank(keyType: keyType)))
      }
    }
    // In OpenSSH's order, as the SSH session asks for them: ed25519 first.
    fingerprints.sort { $0.rank < $1.rank }
    let presented = fingerprints.map { "\($0.type) \($0.fingerprint)" }.joined(separator: ", ")
    let types = fingerprints.map(\.type)
    context.console.line("    \(host) (\(address)) is not trusted yet: \(firstError.split(separator: "\n").first ?? "")")
    context.console.line("    it presents: \(presented)")
    let answer = try await context.ask(Question(
      id: "fingerprint.\(context.step.id)",
      text: """
        On \(host)'s own console (not over the network), run: ssh-keygen -lf /etc/ssh/ssh_host_\(types.first ?? "ed25519")_key.pub
        and type the fingerprint it prints (SHA256:…)\(types.count > 1 ? "; the \(types.dropFirst().joined(separator: " or ")) key's fingerprint is accepted too" : "").
        nexus-dr trusts the new key only if a key the host presents over the network has exactly that fingerprint.
        Or answer abort.
        """,
      kind: .fingerprint))
    if answer.value == "abort" { throw StepFailure(.declined, "the operator stopped at '\(context.step.id)'") }
    guard let match = fingerprints.first(where: { $0.fingerprint == answer.value }) else {
      throw StepFailure(.failed, "\(address) presents \(presented), not \(answer.value): do not go on — it is another machine, or someone is in between. known_hosts was not changed.")
    }
    let pattern = port == 22 ? address : "[\(address)]:\(port)"
    let remove = try await context.run(.argv(["ssh-keygen", "-R", pattern, "-f", knownHosts], timeout: .seconds(30)), on: nil, quiet: true, local: true)
    guard remove.succeeded || remove.stderrTail.contains("not found") else {
      throw StepFailure(.failed, "cannot remove the old entry for \(pattern) from \(knownHosts): \(remove.stderrTail)")
    }
    var append = HostCommand(.argv(["sh", "-c", #"umask 077; cat >> "$1" && sync "$1""#, "known-hosts", knownHosts]), timeout: .seconds(30))
    append.stdin = Array((match.line + "\n").utf8)
    let appended = try await context.run(append, on: nil, quiet: true, local: true)
    guard appended.succeeded else { throw StepFailure(.failed, "cannot add the new key to \(knownHosts): \(appended.stderrTail)") }
    context.console.line("    \(knownHosts): the old entry for \(pattern) replaced by \(match.fingerprint) (the previous file is kept as \(knownHosts).old)")
    updated = "replaced"
    var result = try await answers(expected, host: host, knownHosts: updated, context: context)
    result.outputs["fingerprint"] = match.fingerprint
    return result
  }

  func answers(_ expected: String, host: String, knownHosts: String, context: StepContext) async throws(StepFailure) -> StepResult {
    let result = try await context.run(.argv(["hostname"], timeout: .seconds(30)), quiet: true)
    let name = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard result.succeeded else { throw StepFailure(.failed, "hostname failed on \(host): \(result.stderrTail)") }
    guard name == expected else {
      throw StepFailure(.failed, "\(host) answers as '\(name)', not '\(expected)': set its hostname (hostnamectl set-hostname \(expected)) and resume")
    }
    context.console.line("    \(host) answers as \(name), host key trusted")
    return StepResult(outputs: ["hostname": name, "fingerprint": "", "known_hosts": knownHosts])
  }
}

extension StepContext {
  /// Runs a command on the host the step names, or with `local` on this machine (where nexus-dr runs).
  func run(_ command: HostCommand, on host: String?, quiet: Bool, local: Bool) async throws(StepFailure) -> CommandResult {
    guard local else { return try await run(command, on: host, quiet: quiet) }
    do { return try await LocalTransport().run(command) } catch { throw StepFailure.from(error) }
  }
}

/// `config.restore`: the newest `config/*/server` snapshot on the NAS back onto the
/// step's host (the NAS is mounted there), file by file with rsync (`--checksum`:
/// an identical file is not touched; a different one is replaced and the one that
/// was there kept as `NAME.setup-TIME`). Owners and modes come with the snapshot.
/// Lists what the snapshot could not hold: the excluded files and the redacted
/// settings — the secrets `secrets.restore` puts back.
/// Configuration only: every file must lie under the inventory's `config.server` (or
/// `config.gate`) paths, and a snapshot holding anything else — a file elsewhere (a planted
/// `etc/cron.d` entry), a setuid or setgid mode (on the file or in `.nexus-dr-owners`), a
/// device, FIFO or socket — is refused before anything is written, naming what it holds.
public struct ConfigRestoreAction: StepAction {
  public static let name = "config.restore"
  public static let parameterKeys = ["part"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var part: String

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    part = try parameters["part"]?.string() ?? "server"
    guard ["server", "gate"].contains(part) else {
      throw (parameters["part"] ?? parameters.owner).error(.invalidValue, "config snapshots have the parts server and gate, not '\(part)'")
    }
  }

  public var declaredOutputs: Set<String>? { ["snapshot", "files", "replaced", "secrets"] }

  public func plan(_ context: PlanContext) -> [String] {
    let nas = context.values.environment["nas.path"] ?? "the NAS"
    return [
      "the newest \(nas)/config/<time>/\(part)/ → / on \(context.step.host ?? "the host"), file by file (rsync --checksum; a different file there is kept as NAME.setup-<time>)",
      "refused before anything is written: a file outside the inventory's config.\(part) paths, a setuid/setgid mode, a device or other special file",
      "list the excluded files and [REDACTED] settings: the secrets to put back",
    ]
  }

  static let script = #"""
    set -eu
    nas=$1; part=$2; stamp=$3; shift 3
    snap=$(ls -1d "$nas"/config/2*/"$part" 2>/dev/null | sort | tail -n 1)
    [ -n "$snap" ] || { echo "no snapshot of $part under $nas/config" >&2; exit 3; }
    cd "$snap"
    # Configuration, nothing else: under the inventory's paths ("$@", globs), plain files,
    # symbolic links and directories only, no setuid/setgid bit; checked before any write.
    refused=""
    while IFS= read -r f; do
      inside=no
      for pattern in "$@"; do
        # shellcheck disable=SC2254
        case "/$f" in $pattern|$pattern/*) inside=yes ;; esac
      done
      [ "$inside" = yes ] || refused="$refused
    outside the configured paths: /$f"
    done <<EOF
    $(find . -mindepth 1 ! -type d ! -name .nexus-dr-excluded ! -name .nexus-dr-owners -printf '%P\n' | sort)
    EOF
    special=$(find . -mindepth 1 ! -type f ! -type l ! -type d -printf '/%P\n' | sort)
    [ -z "$special" ] || refused="$refused
    $(printf '%s\n' "$special" | sed 's/^/a device, FIFO or socket: /')"
    setid=$(find . -mindepth 1 -perm /6000 ! -type l -printf '/%P\n' | sort)
    [ -z "$setid" ] || refused="$refused
    $(printf '%s\n' "$setid" | sed 's/^/a setuid or setgid mode: /')"
    if [ -f .nexus-dr-owners ]; then
      owned=$(awk '$3 ~ /^[0-7]+$/ && length($3) == 4 && substr($3, 1, 1) ~ /[2-7]/ { print "a setuid or setgid mode in .nexus-dr-owners (" $3 "): " $4 }' .nexus-dr-owners)
      [ -z "$owned" ] || refused="$refused
    $owned"
    fi
    if [ -n "$refused" ]; then
      printf 'the snapshot %s holds more than configuration; nothing was restored:%s\n' "$snap" "$refused" >&2
      exit 4
    fi
    files=$(find . \( -type f -o -type l \) ! -name .nexus-dr-excluded ! -name .nexus-dr-owners -printf '%P\n' | sort)
    out=$(printf '%s\n' "$files" | rsync -a --checksum --no-implied-dirs --backup --suffix=".setup-$stamp" --files-from=- --itemize-changes ./ /) ||
      { echo "rsync from $snap to / failed" >&2; exit 1; }
    echo "changed $(printf '%s\n' "$out" | grep -c '^>f' || true)"
    echo "files $(printf '%s\n' "$files" | grep -c . || true)"
    printf '%s\n' "$files" | while read -r f; do [ -e "/$f.setup-$stamp" ] && echo "replaced /$f.setup-$stamp"; done || true
    # Owners by name (this install's uids may differ from the old server's) and modes.
    if [ -f .nexus-dr-owners ]; then
      fixed=0
      while read -r u g m p; do
        [ -f "$p" ] && [ -e "./${p#/}" ] || continue
        if id -u "$u" >/dev/null 2>&1 && getent group "$g" >/dev/null 2>&1; then
          chown -h "$u:$g" "$p" && chmod "$m" "$p" && fixed=$((fixed + 1))
        else
          echo "unknown-owner $u:$g $p"
        fi
      done < .nexus-dr-owners
      echo "owners $fixed"
    fi
    """#

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else { throw StepFailure(.failed, "no nas section in the inventory") }
    let stamp = JournalTime.compact(Date())
    guard let config = context.environment.config else { throw StepFailure(.failed, "no config section in the inventory") }
    let paths = part == "server" ? config.server : config.gate
    guard !paths.isEmpty else { throw StepFailure(.failed, "the inventory's config.\(part) lists no paths: nothing may be restored") }
    let result = try await context.run(
      .argv(["bash", "-c", Self.script, "config-restore", nas.path, part, stamp] + paths.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }, timeout: .seconds(600)),
      quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot restore the configuration: \(result.stderrTail)") }
    let listing = try await SecretListing.read(nas: nas.path, part: part, context: context, restored: result.stdoutText)
    context.console.line("    from \(listing.snapshot): \(listing.files) file(s), \(listing.changed) written\(listing.replaced.isEmpty ? "" : "; the host's own versions kept: \(listing.replaced.joined(separator: ", "))")")
    if listing.unlisted { context.console.line("    this snapshot predates the list of excluded files: check the inventory's config excludes by hand") }
    if listing.ownersFixed > 0 { context.console.line("    owners and modes set by name as recorded: \(listing.ownersFixed) file(s)") }
    if !listing.unknownOwners.isEmpty { context.console.line("    owners this install does not know (left as copied): \(listing.unknownOwners.joined(separator: ", "))") }
    let secrets = listing.secrets
    context.console.line(secrets.isEmpty ? "    no secret to put back" : "    secrets to put back from secure storage: \(secrets.joined(separator: ", "))")
    return StepResult(outputs: [
      "snapshot": listing.snapshot, "files": String(listing.files), "replaced": listing.replaced.joined(separator: ","),
      "secrets": secrets.joined(separator: ","),
    ])
  }
}

/// What `config.restore`'s script printed.
struct SecretListing {
  var snapshot = ""
  var files = 0
  var changed = 0
  var replaced: [String] = []
  var excluded: [String] = []
  var redacted: [(file: String, key: String)] = []
  var unlisted = false
  var ownersFixed = 0
  var unknownOwners: [String] = []
  /// path → (user, group, mode) as the snapshot recorded them.
  var owners: [String: (user: String, group: String, mode: String)] = [:]

  init(_ text: String) {
    for line in text.split(whereSeparator: \.isNewline) {
      let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
      guard parts.count >= 2 else { continue }
      switch parts[0] {
      case "snapshot": snapshot = parts[1]
      case "files": files = Int(parts[1]) ?? 0
      case "changed": changed = Int(parts[1]) ?? 0
      case "replaced": replaced.append(parts[1])
      case "excluded": excluded.append(parts[1])
      case "redacted" where parts.count == 3: redacted.append((parts[1], parts[2]))
      case "unlisted": unlisted = true
      case "owners": ownersFixed = Int(parts[1]) ?? 0
      case "unknown-owner" where parts.count == 3: unknownOwners.append("\(parts[2]) (\(parts[1]))")
      case "owner":
        // owner USER GROUP MODE /path (the path may hold spaces)
        let fields = line.split(separator: " ", maxSplits: 4).map(String.init)
        if fields.count == 5 { owners[fields[4]] = (fields[1], fields[2], fields[3]) }
      default: break
      }
    }
  }

  /// `/path` for an excluded file, `/path: key` for a redacted setting.
  var secrets: [String] { excluded + redacted.map { "\($0.file): \($0.key)" } }

  /// The newest snapshot of PART and what it could not hold: its `.nexus-dr-excluded`
  /// and its `KEY = [REDACTED]` settings (names only), with `restored`'s lines parsed too.
  static func read(nas: String, part: String, context: StepContext, restored: String = "") async throws(StepFailure) -> SecretListing {
    let listed = try await context.run(.argv(["bash", "-c", script, "secrets-list", nas, part], timeout: .seconds(120)), quiet: true)
    guard listed.succeeded else { throw StepFailure(.failed, "cannot list the secrets: \(listed.stderrTail)") }
    return SecretListing(restored + "\n" + listed.stdoutText)
  }

  static let script = #"""
    set -eu
    nas=$1; part=$2
    snap=$(ls -1d "$nas"/config/2*/"$part" 2>/dev/null | sort | tail -n 1)
    [ -n "$snap" ] || { echo "no snapshot of $part under $nas/config" >&2; exit 3; }
    echo "snapshot $snap"
    cd "$snap"
    [ -f .nexus-dr-excluded ] && sed 's/^/excluded /' .nexus-dr-excluded || echo "unlisted yes"
    [ -f .nexus-dr-owners ] && sed 's/^/owner /' .nexus-dr-owners
    find . -type f ! -name .nexus-dr-excluded ! -name .nexus-dr-owners -printf '%P\n' | while read -r f; do
      grep -E '\[REDACTED\]' "$f" | sed -E 's/^[[:space:]]*([^=:[:space:]]+).*/\1/' | sed "s#^#redacted /$f #"
    done || true
    """#
}

/// `secrets.restore`: puts back what the configuration snapshot could not hold.
/// The list comes from the newest snapshot (its excluded files; the settings still
/// `[REDACTED]` on the host) plus `also`. With `from` — a directory on the machine
/// running nexus-dr, laid out like `/` (secure storage, e.g. a mounted USB stick) —
/// each excluded file is copied from `FROM/path` (mode 0600, temporary name then
/// rename), and each redacted setting gets its value from the `KEY = value` line of
/// `FROM/path`. What is still missing is asked for (question `manual.ID`) and checked
/// again: every file present and not empty, no `[REDACTED]` left. Never prints,
/// journals or reports a secret: only paths and setting names.
public struct SecretsRestoreAction: StepAction {
  public static let name = "secrets.restore"
  public static let parameterKeys = ["from", "also", "part"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var from: Template?
  public var also: [String]
  public var part: String

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    from = try parameters["from"].map { value throws(ConfigError) in try context.template(value) }
    also = try parameters["also"]?.stringList() ?? []
    for path in also where !path.hasPrefix("/") {
      throw (parameters["also"] ?? parameters.owner).error(.invalidValue, "'\(path)' in also: must be an absolute path")
    }
    part = try parameters["part"]?.string() ?? "server"
  }

  public var declaredOutputs: Set<String>? { ["secrets", "copied", "settings"] }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "list the newest snapshot's excluded files, the settings still [REDACTED] on \(context.step.host ?? "the host"), and \(also.isEmpty ? "nothing else" : also.joined(separator: ", "))",
      "copy them from \(from.flatMap { try? $0.render(context.values) }.flatMap { $0.isEmpty ? nil : $0 + " on this machine" } ?? "(no secure-storage directory given: all by hand)") when there; ask for the rest (question manual.\(context.step.id)); check all are there",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else { throw StepFailure(.failed, "no nas section in the inventory") }
    var listing = try await SecretListing.read(nas: nas.path, part: part, context: context)
    listing.excluded = Array(Set(listing.excluded + also)).sorted()
    let directory = try from.map { template throws(StepFailure) in try context.render(template) } ?? ""
    var copied: [String] = []
    var settings: [String] = []
    if !directory.isEmpty {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw StepFailure(.failed, "the secure-storage directory \(directory) does not exist on this machine")
      }
      for path in listing.excluded {
        guard let data = FileManager.default.contents(atPath: directory + path) else { continue }
        let owner = listing.owners[path]
        var write = HostCommand(.argv(["sh", "-c", Self.writeScript, "secret-write", path, owner?.user ?? "", owner?.group ?? "", owner?.mode ?? ""]), timeout: .seconds(60))
        write.stdin = Array(data)
        let result = try await context.run(write, quiet: true)
        guard result.succeeded else { throw StepFailure(.failed, "cannot write \(path): \(result.stderrTail)") }
        copied.append(path)
      }
      for (file, key) in listing.redacted {
        guard let source = FileManager.default.contents(atPath: directory + file) else { continue }
        let stored = String(decoding: source, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        let current = try await context.run(.argv(["cat", "--", file], timeout: .seconds(30)), quiet: true)
        guard current.succeeded, !current.stdoutTruncated, let currentText = String(validating: current.stdout, as: UTF8.self) else { continue }
        var lines = currentText.components(separatedBy: "\n")
        var changed = false
        for index in lines.indices where RedactedLine.key(of: lines[index]) == key {
          guard let restored = RedactedLine.restore(lines[index], from: stored) else { continue }
          lines[index] = restored
          changed = true
        }
        guard changed else { continue }
        var write = HostCommand(.argv(["sh", "-c", Self.rewriteScript, "secret-rewrite", file]), timeout: .seconds(60))
        write.stdin = Array(lines.joined(separator: "\n").utf8)
        let result = try await context.run(write, quiet: true)
        guard result.succeeded else { throw StepFailure(.failed, "cannot write \(file): \(result.stderrTail)") }
        settings.append("\(file): \(key)")
      }
      context.console.line("    from \(directory): \(copied.count) file(s) and \(settings.count) setting(s) put back")
    }
    var missing = try await check(listing, context: context)
    if !missing.isEmpty {
      let answer = try await context.ask(Question(
        id: "manual.\(context.step.id)",
        text: "Put these back from secure storage (files mode 0600; settings: replace [REDACTED] with the value):\n  " + missing.joined(separator: "\n  ") + "\nWhen it is done, answer 'done' (or 'abort' to stop here).",
        kind: .words(["done", "abort"])))
      if answer.value == "abort" { throw StepFailure(.declined, "the operator stopped at '\(context.step.id)'") }
      missing = try await check(listing, context: context)
      guard missing.isEmpty else {
        throw StepFailure(.failed, "still missing: \(missing.joined(separator: "; ")); put them back and resume")
      }
    }
    let all = listing.excluded + listing.redacted.map { "\($0.file): \($0.key)" }
    context.console.line("    \(all.count) secret(s) in place: \(all.joined(separator: ", "))")
    return StepResult(outputs: ["secrets": all.joined(separator: ","), "copied": copied.joined(separator: ","), "settings": settings.joined(separator: ",")])
  }

  /// The secrets not in place on the host: missing or empty files, settings still redacted.
  func check(_ listing: SecretListing, context: StepContext) async throws(StepFailure) -> [String] {
    var arguments: [String] = []
    for path in listing.excluded { arguments += ["f", path] }
    for (file, key) in listing.redacted { arguments += ["s", "\(file)\t\(key)"] }
    guard !arguments.isEmpty else { return [] }
    let result = try await context.run(.argv(["sh", "-c", Self.checkScript, "secrets-check"] + arguments, timeout: .seconds(60)), quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot check the secrets: \(result.stderrTail)") }
    return result.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
  }

  /// stdin → PATH, root 0600 — or USER:GROUP and MODE as the snapshot recorded them when
  /// this install knows them.
  static let writeScript = #"""
    set -eu
    umask 077; dir=$(dirname "$1"); mkdir -p "$dir"; trap 'rm -f "$1.nexus-dr-new"' EXIT
    cat > "$1.nexus-dr-new"; chmod 0600 "$1.nexus-dr-new"
    if [ -n "$2" ] && id -u "$2" >/dev/null 2>&1 && getent group "$3" >/dev/null 2>&1; then
      chown "$2:$3" "$1.nexus-dr-new"; chmod "$4" "$1.nexus-dr-new"
    fi
    sync "$1.nexus-dr-new"; mv -f "$1.nexus-dr-new" "$1"; trap - EXIT
    """#

  /// stdin replaces the file, keeping its owner and mode.
  static let rewriteScript = #"""
    set -eu
    umask 077; trap 'rm -f "$1.nexus-dr-new"' EXIT
    cat > "$1.nexus-dr-new"; chown --reference="$1" "$1.nexus-dr-new"; chmod --reference="$1" "$1.nexus-dr-new"
    sync "$1.nexus-dr-new"; mv -f "$1.nexus-dr-new" "$1"; trap - EXIT
    """#

  static let checkScript = #"""
    while [ $# -ge 2 ]; do
      kind=$1; what=$2; shift 2
      if [ "$kind" = f ]; then [ -s "$what" ] || echo "$what (file missing or empty)"
      else
        file=${what%%	*}; key=${what#*	}
        grep -E "^[[:space:]]*$key[[:space:]]*[=:].*\[REDACTED\]" "$file" >/dev/null 2>&1 && echo "$file: $key (still [REDACTED])"
      fi
    done
    exit 0
    """#
}

/// `wg.peer-update`: on the gate, the `[Peer]` of a host that got a new WireGuard key
/// (found by its tunnel address in `AllowedIPs`) gets the new `PublicKey` — and, when
/// the block has an `Endpoint`, the new address — with every other byte of the file
/// kept. Written under a temporary name, checked, renamed (the file before the edit
/// is kept as `IFACE.conf.before-TIME`, 0600), then applied with `wg syncconf`, which
/// changes that peer without dropping any other tunnel.
public struct WireGuardPeerUpdateAction: StepAction {
  public static let name = "wg.peer-update"
  public static let parameterKeys = ["interface", "allowed_ip", "public_key", "endpoint"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var interface: String
  public var allowedIP: Template
  public var publicKey: Template
  public var endpoint: Template?

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    interface = try parameters["interface"]?.string() ?? "wg0"
    allowedIP = try context.template(try parameters.required("allowed_ip", hint: "the peer's tunnel address, e.g. {{ steps.server-tunnel.output.address }}"))
    publicKey = try context.template(try parameters.required("public_key", hint: "the peer's new public key"))
    endpoint = try parameters["endpoint"].map { value throws(ConfigError) in try context.template(value) }
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
    guard WireGuardKey.isPublicKey(newKey) else { throw StepFailure(.failed, "'\(newKey)' is not a WireGuard public key") }
    let newEndpoint = try endpoint.map { template throws(StepFailure) in try context.render(template) } ?? ""
    // The file holds the gate's private key: read quietly, kept in memory, never output.
    let read = try await context.run(.argv(["cat", "--", path], timeout: .seconds(30)), quiet: true)
    guard read.succeeded, !read.stdoutTruncated, let text = String(validating: read.stdout, as: UTF8.self) else {
      throw StepFailure(.failed, "cannot read \(path) on \(context.step.host ?? "the gate") whole and as UTF-8: \(read.stderrTail)")
    }
    var config = WireGuardConfig(text: text)
    guard let peer = config.peer(allowing: address) else {
      throw StepFailure(.failed, "\(path) has no [Peer] with AllowedIPs \(address); add the peer by hand (wg0.conf and wg set) and resume")
    }
    let oldKey = config.value(of: "PublicKey", in: peer) ?? ""
    config.set("PublicKey", to: newKey, in: peer)
    if !newEndpoint.isEmpty, let current = config.value(of: "Endpoint", in: peer), let colon = current.lastIndex(of: ":") {
      config.set("Endpoint", to: newEndpoint + current[colon...], in: config.peer(allowing: address)!)
    }
    let changed = config.text != text
    if changed {
      let content = Array(config.text.utf8)
      let digest = Digest.sha256Hex(content)
      var write = HostCommand(.argv(["sh", "-c", Self.writeScript, "wg-edit", path, digest, JournalTime.compact(Date())]), timeout: .seconds(60))
      write.stdin = content
      let written = try await context.run(write, quiet: true)
      guard written.succeeded else { throw StepFailure(.failed, "cannot write \(path): \(written.stderrTail); the file is as it was") }
      context.console.line("    \(path): the peer \(address) now has PublicKey \(newKey) (was \(oldKey)); the file before is kept as \(written.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))")
    } else {
      context.console.line("    \(path): the peer \(address) has PublicKey \(newKey) already")
    }
    // Test-only: NEXUS_DR_CRASH_AT=STEP:after-write dies like kill -9 with the file edited, not yet applied.
    FaultInjection.crashIfRequested(step: context.step.id, phase: "after-write")
    // syncconf with an empty configuration would remove every peer: strip first, check, then apply.
    let sync = try await context.run(.argv(["bash", "-c", #"""
      conf=$(wg-quick strip "$2") || exit 1
      printf '%s\n' "$conf" | grep -q '^\[Peer\]' || { echo "wg-quick strip $2 gave no peer: not applied" >&2; exit 1; }
      wg syncconf "$1" <(printf '%s\n' "$conf") && wg show "$1" peers
      """#, "wg-syncconf", interface, path], timeout: .seconds(60)), quiet: true)
    guard sync.succeeded else { throw StepFailure(.failed, "wg syncconf \(interface) failed: \(sync.stderrTail)") }
    let peers = sync.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
    guard peers.contains(newKey), oldKey == newKey || !peers.contains(oldKey) else {
      throw StepFailure(.failed, "after wg syncconf, \(interface)'s peers are \(peers.joined(separator: ", ")): the new key is not applied")
    }
    context.console.line("    applied with wg syncconf: \(peers.count) peer(s), the others' tunnels untouched")
    return StepResult(outputs: ["old_public_key": oldKey, "public_key": newKey, "changed": changed ? "true" : "false"])
  }

  static let writeScript = #"""
    set -eu
    target=$1; want=$2; stamp=$3; umask 077
    tmp="$target.nexus-dr-new"
    cat > "$tmp"; chmod --reference="$target" "$tmp"; chown --reference="$target" "$tmp"; sync "$tmp"
    [ "$(sha256sum < "$tmp" | cut -d' ' -f1)" = "$want" ] || { rm -f "$tmp"; echo "the file written differs from what was sent" >&2; exit 1; }
    cp -p "$target" "$target.before-$stamp"; sync "$target.before-$stamp"
    mv -f "$tmp" "$target"; sync "$(dirname "$target")"
    echo "$target.before-$stamp"
    """#
}

/// A restored line with `[REDACTED]` in it, and the secret put back from secure storage.
/// Secure storage holds the setting's line as it was (the whole file, or only its secret
/// settings), so the value is what that line holds where this one says `[REDACTED]`: after
/// the same text before it (`db_password = `, `Environment=NEXUS_DB_PASSWORD=`,
/// `"db_password": "`, `postgresql://nexus_app:`) and before the same text after it.
enum RedactedLine {
  /// The setting's name as the secrets listing gives it: the line's first word, up to `=` or `:`.
  static func key(of line: String) -> String? {
    guard line.contains(Redactor.mask) else { return nil }
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    let name = trimmed.prefix { $0 != "=" && $0 != ":" && $0 != " " && $0 != "\t" }
    return name.isEmpty ? nil : String(name)
  }

  static func restore(_ line: String, from stored: [String]) -> String? {
    let parts = line.components(separatedBy: Redactor.mask)
    guard parts.count == 2 else { return nil }
    let before = parts[0].drop { $0 == " " || $0 == "\t" }
    let after = parts[1].trimmingCharacters(in: .whitespaces)
    for candidate in stored {
      let text = candidate.drop { $0 == " " || $0 == "\t" }
      guard !before.isEmpty, text.hasPrefix(before), !text.contains(Redactor.mask) else { continue }
      var value = String(text.dropFirst(before.count)).trimmingCharacters(in: .whitespaces)
      for suffix in [after, after.hasSuffix(",") ? String(after.dropLast()) : after] where !suffix.isEmpty && value.hasSuffix(suffix) {
        value = String(value.dropLast(suffix.count))
        break
      }
      guard !value.isEmpty else { continue }
      return parts[0] + value + parts[1]
    }
    return nil
  }
}
