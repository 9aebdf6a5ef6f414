import Foundation
import NexusCore
import NexusTransport

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
      for suffix in [after, after.hasSuffix(",") ? String(after.dropLast()) : after]
      where !suffix.isEmpty && value.hasSuffix(suffix) {
        value = String(value.dropLast(suffix.count))
        break
      }
      guard !value.isEmpty else { continue }
      return parts[0] + value + parts[1]
    }
    return nil
  }
}
