import Foundation
import NexusCore
import NexusTransport

/// Dates in backup names: `YYYYMMDD`, local time.
enum BackupDate {
  static func today() -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .current
    return format(Date(), calendar)
  }

  /// `YYYYMMDD` of `date` in `calendar`'s time zone.
  static func format(_ date: Date, _ calendar: Calendar) -> String {
    let parts = calendar.dateComponents([.year, .month, .day], from: date)
    return String(format: "%04d%02d%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
  }

  /// Gregorian, in UTC: the calendar of dates without a time.
  static var utc: Calendar {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .current
    return calendar
  }

  static func isValid(_ text: String) -> Bool {
    guard text.wholeMatch(of: #/[0-9]{8}/#) != nil, let year = Int(text.prefix(4)),
      let month = Int(text.dropFirst(4).prefix(2)), let day = Int(text.suffix(2))
    else { return false }
    let calendar = utc
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
    guard value <= tomorrow else {
      throw StepFailure(
        .failed, "the date \(value) is in the future (today is \(today())); retention would count back from it")
    }
    return value
  }
}

extension BackupDate {
  /// `YYYYMMDD` minus `days` days.
  static func minus(_ day: String, days: Int) -> String {
    let calendar = utc
    let year = Int(day.prefix(4)) ?? 1970
    let month = Int(day.dropFirst(4).prefix(2)) ?? 1
    let date = Int(day.suffix(2)) ?? 1
    let start = calendar.date(from: DateComponents(year: year, month: month, day: date)) ?? Date()
    let earlier = calendar.date(byAdding: .day, value: -days, to: start) ?? start
    return format(earlier, calendar)
  }
}
