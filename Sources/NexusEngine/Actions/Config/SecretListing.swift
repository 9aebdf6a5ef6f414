import Foundation
import NexusCore
import NexusTransport

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
  static func read(nas: String, part: ConfigPart, context: StepContext, restored: String = "") async throws(StepFailure)
    -> SecretListing
  {
    let snapshot = try await NASCatalog.newestConfigSnapshot(of: part, nas: nas, context: context)
    return try await read(snapshot: snapshot, context: context, restored: restored)
  }

  static func read(snapshot: String, context: StepContext, restored: String = "") async throws(StepFailure)
    -> SecretListing
  {
    let listed = try await context.run(
      .argv(["bash", "-c", script, "secrets-list", snapshot], timeout: .seconds(120)), quiet: true)
    guard listed.succeeded else { throw StepFailure(.failed, "cannot list the secrets: \(listed.stderrTail)") }
    return SecretListing(restored + "\n" + listed.stdoutText)
  }

  static let script = RemoteScript.secretsList
}
