import Foundation
import NexusCore
import SystemPackage

/// Appends records to a run's `journal.jsonl`, each written and fsync'd before
/// `append` returns, so a record the engine has moved past is on disk even if
/// the machine loses power the next instant.
public final class JournalWriter: @unchecked Sendable {
  public let path: String
  private let file: FileDescriptor
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
    do { file = try POSIX.open(path, .writeOnly, options: [.append, .create], permissions: .ownerReadWrite) } catch {
      throw RunError(.stateUnwritable, "cannot open the journal \(path): \(error.errno)")
    }
    try? POSIX.setPermissions(file, .ownerReadWrite)
    // A record cut short by a crash is dropped, so the next one starts on its own line.
    if let size = try? file.stat().size, size > 0, let reader = try? POSIX.open(path, .readOnly) {
      defer { try? reader.close() }
      var offset = size
      var byte: [UInt8] = [0]
      while offset > 0,
        (try? byte.withUnsafeMutableBytes { try reader.read(fromAbsoluteOffset: offset - 1, into: $0) }) == 1,
        byte[0] != UInt8(ascii: "\n")
      {
        offset -= 1
      }
      if offset != size { try? file.resize(to: offset) }
    }
  }

  deinit { try? file.close() }

  public func append(_ record: JournalRecord) throws {
    var line = try encoder.encode(record)
    line.append(UInt8(ascii: "\n"))
    try lock.withLock {
      let end = (try? file.stat().size) ?? 0
      var problem: String?
      do {
        let written = try line.withUnsafeBytes { try file.write($0) }
        if written != line.count { problem = "\(written) of \(line.count) bytes written" } else { try POSIX.sync(file) }
      } catch {
        problem = "\(POSIX.systemError(error))"
      }
      if let problem {
        // A short write (a full disk) is taken back, so the journal stays a list of whole records.
        try? file.resize(to: end)
        throw RunError(.stateUnwritable, "cannot write the journal \(path): \(problem)")
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
    try? Date(
      text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)
    )
  }
}

extension JournalTime {
  /// For names: `20261127T130512` (UTC, no separators).
  public static func compact(_ date: Date) -> String {
    date.formatted(
      .iso8601.year().month().day().dateSeparator(.omitted).time(includingFractionalSeconds: false).timeSeparator(
        .omitted
      ).dateTimeSeparator(.standard)
    )
    .replacingOccurrences(of: "Z", with: "")
  }

  /// For people: `2026-11-27 13:05:12Z`.
  public static func display(_ date: Date) -> String {
    date.formatted(.iso8601.year().month().day().dateTimeSeparator(.space).time(includingFractionalSeconds: false))
  }
}
