import Foundation
import NexusCore
import NexusTransport

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
  public enum Parameter: String, ParameterKey { case from, also, part }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var from: Template?
  public var also: [String]
  public var part: ConfigPart

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    from = try parameters[.from].map { value throws(ConfigError) in try context.template(value) }
    also = try parameters[.also]?.stringList() ?? []
    for path in also where !path.hasPrefix("/") {
      throw (parameters[.also] ?? parameters.owner).error(.invalidValue, "'\(path)' in also: must be an absolute path")
    }
    part = try parameters.choice(.part, default: .server) {
      "config snapshots have the parts server and gate, not '\($0)'"
    }
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
        var write = HostCommand(
          .argv([
            "sh", "-c", Self.writeScript, "secret-write", path, owner?.user ?? "", owner?.group ?? "",
            owner?.mode ?? "",
          ]), timeout: .seconds(60))
        write.stdin = Array(data)
        let result = try await context.run(write, quiet: true)
        guard result.succeeded else { throw StepFailure(.failed, "cannot write \(path): \(result.stderrTail)") }
        copied.append(path)
      }
      for (file, key) in listing.redacted {
        guard let source = FileManager.default.contents(atPath: directory + file) else { continue }
        let stored = String(decoding: source, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        let current = try await context.run(.argv(["cat", "--", file], timeout: .seconds(30)), quiet: true)
        guard current.succeeded, !current.stdoutTruncated,
          let currentText = String(validating: current.stdout, as: UTF8.self)
        else { continue }
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
      let answer = try await context.ask(
        Question(
          id: "manual.\(context.step.id)",
          text: "Put these back from secure storage (files mode 0600; settings: replace [REDACTED] with the value):\n  "
            + missing.joined(separator: "\n  ") + "\nWhen it is done, answer 'done' (or 'abort' to stop here).",
          kind: .words(["done", "abort"])))
      if answer.value == "abort" { throw StepFailure(.declined, "the operator stopped at '\(context.step.id)'") }
      missing = try await check(listing, context: context)
      guard missing.isEmpty else {
        throw StepFailure(.failed, "still missing: \(missing.joined(separator: "; ")); put them back and resume")
      }
    }
    let all = listing.excluded + listing.redacted.map { "\($0.file): \($0.key)" }
    context.console.line("    \(all.count) secret(s) in place: \(all.joined(separator: ", "))")
    return StepResult(outputs: [
      "secrets": all.joined(separator: ","), "copied": copied.joined(separator: ","),
      "settings": settings.joined(separator: ","),
    ])
  }

  /// The secrets not in place on the host: missing or empty files, settings still redacted.
  func check(_ listing: SecretListing, context: StepContext) async throws(StepFailure) -> [String] {
    var arguments: [String] = []
    for path in listing.excluded { arguments += ["f", path] }
    for (file, key) in listing.redacted { arguments += ["s", "\(file)\t\(key)"] }
    guard !arguments.isEmpty else { return [] }
    let result = try await context.run(
      .argv(["sh", "-c", Self.checkScript, "secrets-check"] + arguments, timeout: .seconds(60)), quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot check the secrets: \(result.stderrTail)") }
    return result.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
  }

  /// stdin → PATH, root 0600 — or USER:GROUP and MODE as the snapshot recorded them when
  /// this install knows them.
  static let writeScript = RemoteScript.durable + RemoteScript.secretsWrite

  /// stdin replaces the file, keeping its owner and mode.
  static let rewriteScript = RemoteScript.durable + RemoteScript.secretsRewrite

  static let checkScript = RemoteScript.secretsCheck
}
