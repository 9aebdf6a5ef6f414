import Foundation

/// Durations as the inventory and runbooks write them: `30s`, `5m`, `2h`, `14d`,
/// `500ms`, or combined, `1h30m`.
public enum DurationText {
  /// Parses a duration; `nil` when the text is not one. A bare number is rejected:
  /// `timeout: 30` could mean seconds or minutes, so the unit is required.
  public static func parse(_ text: String) -> Duration? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { return nil }
    var total = Duration.zero
    var rest = Substring(trimmed)
    while !rest.isEmpty {
      guard let match = rest.prefixMatch(of: #/([0-9]+)(ms|s|m|h|d)/#),
        let value = Int64(match.output.1)
      else { return nil }
      switch match.output.2 {
      case "ms": total += .milliseconds(value)
      case "s": total += .seconds(value)
      case "m": total += .seconds(value * 60)
      case "h": total += .seconds(value * 3600)
      default: total += .seconds(value * 86_400)
      }
      rest = rest[match.range.upperBound...]
    }
    return total
  }

  /// Formats a duration for people: `850 ms`, `4.2 s`, `3 min 05 s`, `2 h 10 min`.
  public static func format(_ duration: Duration) -> String {
    let ms = duration.milliseconds
    if ms < 1000 { return "\(ms) ms" }
    if ms < 60_000 { return String(format: "%.1f s", Double(ms) / 1000) }
    let seconds = ms / 1000
    if seconds < 3600 { return String(format: "%d min %02d s", seconds / 60, seconds % 60) }
    return String(format: "%d h %02d min", seconds / 3600, (seconds % 3600) / 60)
  }
}

extension Duration {
  /// Whole milliseconds, rounded down.
  public var milliseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
  }

  /// Seconds as a floating-point value.
  public var secondsValue: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
