import Foundation
import NexusCore
import NexusTransport

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
  public enum Parameter: String, ParameterKey { case part }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var part: ConfigPart

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    part = try parameters.choice(.part, default: .server) {
      "config snapshots have the parts server and gate, not '\($0)'"
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

  static let script = RemoteScript.configRestore

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else { throw StepFailure(.failed, "no nas section in the inventory") }
    let stamp = JournalTime.compact(Date())
    guard let config = context.environment.config else {
      throw StepFailure(.failed, "no config section in the inventory")
    }
    let paths = part.paths(config)
    guard !paths.isEmpty else {
      throw StepFailure(.failed, "the inventory's config.\(part) lists no paths: nothing may be restored")
    }
    let snapshot = try await NASCatalog.newestConfigSnapshot(of: part, nas: nas.path, context: context)
    let result = try await context.run(
      .argv(
        ["bash", "-c", Self.script, "config-restore", snapshot, stamp]
          + paths.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }, timeout: .seconds(600)),
      quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot restore the configuration: \(result.stderrTail)") }
    let listing = try await SecretListing.read(snapshot: snapshot, context: context, restored: result.stdoutText)
    context.console.line(
      "    from \(listing.snapshot): \(listing.files) file(s), \(listing.changed) written\(listing.replaced.isEmpty ? "" : "; the host's own versions kept: \(listing.replaced.joined(separator: ", "))")"
    )
    if listing.unlisted {
      context.console.line(
        "    this snapshot predates the list of excluded files: check the inventory's config excludes by hand")
    }
    if listing.ownersFixed > 0 {
      context.console.line("    owners and modes set by name as recorded: \(listing.ownersFixed) file(s)")
    }
    if !listing.unknownOwners.isEmpty {
      context.console.line(
        "    owners this install does not know (left as copied): \(listing.unknownOwners.joined(separator: ", "))")
    }
    let secrets = listing.secrets
    context.console.line(
      secrets.isEmpty
        ? "    no secret to put back"
        : "    secrets to put back from secure storage: \(secrets.joined(separator: ", "))")
    return StepResult(outputs: [
      "snapshot": listing.snapshot, "files": String(listing.files), "replaced": listing.replaced.joined(separator: ","),
      "secrets": secrets.joined(separator: ","),
    ])
  }
}
