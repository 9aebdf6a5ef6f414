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
    // A record cut short by a crash is dropped, so the next one starts on its own line.
    var info = stat()
    if fstat(descriptor, &info) == 0, info.st_size > 0 {
      let reader = open(path, O_RDONLY | O_CLOEXEC)
      if reader >= 0 {
        defer { close(reader) }
        var offset = info.st_size
        var byte: UInt8 = 0
        while offset > 0, pread(reader, &byte, 1, offset - 1) == 1, byte != UInt8(ascii: "\n") { offset -= 1 }
        if offset != info.st_size { _ = ftruncate(descriptor, offset) }
      }
    }
  }

  deinit { close(descriptor) }

  public func append(_ record: JournalRecord) throws {
    var line = try encoder.encode(record)
    line.append(UInt8(ascii: "\n"))
    try lock.withLock {
      var end = stat()
      _ = fstat(descriptor, &end)
      let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      guard written == line.count, fsync(descriptor) == 0 else {
        // A short write (a full disk) is taken back, so the journal stays a list of whole records.
        _ = ftruncate(descriptor, end.st_size)
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
  /// For names: `20261127T130512` (UTC, no separators).
  public static func compact(_ date: Date) -> String {
    date.formatted(.iso8601.year().month().day().dateSeparator(.omitted).time(includingFractionalSeconds: false).timeSeparator(.omitted).dateTimeSeparator(.standard))
      .replacingOccurrences(of: "Z", with: "")
  }

  /// For people: `2026-11-27 13:05:12Z`.
  public static func display(_ date: Date) -> String {
    date.formatted(.iso8601.year().month().day().dateTimeSeparator(.space).time(includingFractionalSeconds: false))
  }
}
