import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// A recovery target time as the operator writes it: ISO 8601 with a zone
/// (`2026-11-27T14:03:00Z`, `…+01:00`), or `YYYY-MM-DD HH:MM[:SS]` in the local
/// time of the machine running nexus-dr.
enum TargetTime {
  static func parse(_ text: String) -> Date? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let date = try? Date(trimmed, strategy: .iso8601) { return date }
    if let date = JournalTime.parse(trimmed) { return date }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = .current
    for format in [
      "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm",
      "yyyy-MM-dd HH:mm:ss.SSS",
    ] {
      formatter.dateFormat = format
      if let date = formatter.date(from: trimmed) { return date }
    }
    return nil
  }

  /// For PostgreSQL's `recovery_target_time`: UTC with microseconds and an explicit zone.
  static func postgres(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
    return formatter.string(from: date) + "+00"
  }
}
