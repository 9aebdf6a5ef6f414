import Foundation
import NexusCore

#if canImport(Glibc)
  import Glibc
#endif

/// Appends records to a run's `journal.jsonl`, each written and fsync'd before
/// `append` returns, so a record the engine has moved past is on disk even if
/// the machine loses power the next instant.
public final class JournalWriter: @unchecked Sendable {
  public let path: String
  private let descriptor: Int32
  private let lock = NSLock()
  private let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(JournalTime.format(date))
    }
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  /// Opens (creating with mode 0600) the journal for appending.
  public init(path: String) throws {
    self.path = path
    descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw RunError(.stateUnwritable, "cannot open the journal \(path): \(String(cString: strerror(errno)))")
    }
    _ = fchmod(descriptor, 0o600)
  }

  deinit { close(descriptor) }

  public func append(_ record: JournalRecord) throws {
    var line = try encoder.encode(record)
    line.append(UInt8(ascii: "\n"))
    try lock.withLock {
      let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      guard written == line.count, fsync(descriptor) == 0 else {
        throw RunError(.stateUnwritable, "cannot write the journal \(path): \(String(cString: strerror(errno)))")
      }
    }
  }
}

/// Journal times: ISO 8601 in UTC with milliseconds.
public enum JournalTime {
  public static func format(_ date: Date) -> String {
    date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
  }

  public static func parse(_ text: String) -> Date? {
    try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
  }
}

extension JournalTime {
  /// For people: `2026-11-27 13:05:12Z`.
  public static func display(_ date: Date) -> String {
    date.formatted(.iso8601.year().month().day().dateTimeSeparator(.space).time(includingFractionalSeconds: false))
  }
}
