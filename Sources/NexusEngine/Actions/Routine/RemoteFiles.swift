import Foundation
import NexusCore
import NexusTransport

/// Commands for files on a host. Paths are always passed as arguments, never
/// spliced into a script: scripts refer to them as "$1", "$2".
enum HostCommandLines {
  static func makeDirectories(_ base: String, subdirectories: [String]) -> HostCommand {
    .argv(["mkdir", "-p", "--", base] + subdirectories.map { "\(base)/\($0)" }, timeout: .seconds(60))
  }

  /// Writes `content` to `path` durably: temporary name, fsync, rename, fsync of the directory.
  static func writeFile(_ path: String, content: [UInt8]) -> HostCommand {
    var command = HostCommand(
      .argv(["sh", "-c", #"tmp="$1.partial.$$"; cat > "$tmp" && sync "$tmp" && mv -f "$tmp" "$1" && sync "$(dirname "$1")" || { rm -f "$tmp"; exit 1; }"#, "write-file", path]),
      timeout: .seconds(120))
    command.stdin = content
    return command
  }

  /// `name size` for each file in a directory matching a glob (nothing when the directory is missing).
  static func list(_ directory: String, matching glob: String) -> HostCommand {
    .argv(["sh", "-c", #"[ -d "$1" ] || exit 0; find "$1" -maxdepth 1 -type f -name "$2" -printf '%f %s\n' | sort"#, "list", directory, glob], timeout: .seconds(60))
  }

  static func parseListing(_ text: String) -> [(name: String, size: Int64)] {
    text.split(separator: "\n").compactMap { line in
      let parts = line.split(separator: " ")
      guard parts.count == 2, let size = Int64(parts[1]) else { return nil }
      return (String(parts[0]), size)
    }
  }
}

/// Dates in backup names: `YYYYMMDD`, local time.
enum BackupDate {
  static func today() -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .current
    let parts = calendar.dateComponents([.year, .month, .day], from: Date())
    return String(format: "%04d%02d%02d", parts.year!, parts.month!, parts.day!)
  }

  static func isValid(_ text: String) -> Bool {
    guard text.wholeMatch(of: #/[0-9]{8}/#) != nil else { return false }
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let year = Int(text.prefix(4))!, month = Int(text.dropFirst(4).prefix(2))!, day = Int(text.suffix(2))!
    guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return false }
    return calendar.component(.day, from: date) == day && calendar.component(.month, from: date) == month
  }

  /// The date given, or today when empty; a malformed one is a step failure.
  static func resolve(_ text: String) throws(StepFailure) -> String {
    let value = text.trimmingCharacters(in: .whitespaces)
    if value.isEmpty || value == "today" { return today() }
    guard isValid(value) else { throw StepFailure(.failed, "'\(value)' is not a date as YYYYMMDD") }
    // A date in the future would become "the newest" and make retention count back from it.
    let tomorrow = minus(today(), days: -1)
    guard value <= tomorrow else { throw StepFailure(.failed, "the date \(value) is in the future (today is \(today())); retention would count back from it") }
    return value
  }
}

extension BackupDate {
  /// `YYYYMMDD` minus `days` days.
  static func minus(_ day: String, days: Int) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let year = Int(day.prefix(4)) ?? 1970, month = Int(day.dropFirst(4).prefix(2)) ?? 1, date = Int(day.suffix(2)) ?? 1
    let start = calendar.date(from: DateComponents(year: year, month: month, day: date)) ?? Date()
    let earlier = calendar.date(byAdding: .day, value: -days, to: start) ?? start
    let parts = calendar.dateComponents([.year, .month, .day], from: earlier)
    return String(format: "%04d%02d%02d", parts.year!, parts.month!, parts.day!)
  }
}
