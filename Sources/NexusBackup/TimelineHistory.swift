import Foundation

/// A PostgreSQL timeline history file (`NNNNNNNN.history`), as `readTimeLineHistory`
/// (src/backend/access/transam/timeline.c) reads it.
///
/// The file for timeline N repeats its parent's file and appends one line, so it
/// lists every ancestor, oldest first: `parentTLI <tab> switchpoint <tab> reason`.
/// The last line is N's direct parent and the LSN where N branched off it. Recovery
/// to N reads exactly this file to decide which timeline each segment comes from.
public struct TimelineHistory: Sendable, Equatable {
  /// One ancestor: WAL before `switchpoint` on the way to this timeline is `parent`'s.
  public struct Entry: Sendable, Equatable {
    public var parent: Int
    /// The LSN where the next timeline on the way branched off `parent`.
    public var switchpoint: UInt64
    public var reason: String

    public init(parent: Int, switchpoint: UInt64, reason: String) {
      self.parent = parent
      self.switchpoint = switchpoint
      self.reason = reason
    }
  }

  /// A line PostgreSQL would refuse (it stops recovery with FATAL): a recovery
  /// planned from such a file would fail, so it is an error here too.
  public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the file name itself is wrong.
    public var line: Int
    public var problem: String
    public var description: String { "\(file) line \(line): \(problem)" }
  }

  /// The timeline whose history this is.
  public var timeline: Int
  /// Ancestors, oldest first; empty for a timeline without parents.
  public var entries: [Entry]

  public init(timeline: Int, entries: [Entry]) {
    self.timeline = timeline
    self.entries = entries
  }

  /// Parses `contents` of `file` (a path or name ending in `NNNNNNNN.history`, which gives the timeline).
  /// Blank lines and `#` comments are skipped, as PostgreSQL does; the reason is free text and optional.
  public init(parsing contents: String, file: String) throws(Malformed) {
    let name = file.split(separator: "/").last.map(String.init) ?? file
    guard name.wholeMatch(of: #/[0-9A-F]{8}\.history/#) != nil, let timeline = Int(name.prefix(8), radix: 16) else {
      throw Malformed(file: file, line: 0, problem: "not a timeline history file name (NNNNNNNN.history)")
    }
    var entries: [Entry] = []
    for (index, raw) in contents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
      let text = raw.trimmingCharacters(in: .whitespaces)
      if text.isEmpty || text.hasPrefix("#") { continue }
      func malformed(_ problem: String) -> Malformed {
        Malformed(file: file, line: index + 1, problem: "\(problem): '\(text)'")
      }
      guard let match = text.wholeMatch(of: #/(\d+)(?:\s+(\S+)(?:\s+(.*))?)?/#) else {
        throw malformed("expected a numeric timeline ID")
      }
      guard let parent = Int(match.1), parent > 0, parent <= Int(UInt32.max) else {
        throw malformed("invalid timeline ID")
      }
      guard let location = match.2, let switchpoint = Self.lsn(String(location)) else {
        throw malformed("expected a switch point location (X/Y)")
      }
      // PostgreSQL's own checks: IDs increase along the history and stay below the file's timeline.
      if let previous = entries.last, parent <= previous.parent {
        throw malformed("timeline IDs must be in increasing sequence")
      }
      guard parent < timeline else {
        throw malformed("timeline IDs must be less than the child timeline's ID (\(timeline))")
      }
      // Not checked by PostgreSQL, but a history never goes back in WAL; the model below relies on it.
      if let previous = entries.last, switchpoint < previous.switchpoint {
        throw malformed("switch points must not go backwards")
      }
      entries.append(Entry(parent: parent, switchpoint: switchpoint, reason: match.3.map(String.init) ?? ""))
    }
    self.init(timeline: timeline, entries: entries)
  }

  /// The direct parent (nil for a timeline without parents, such as timeline 1).
  public var parent: Int? { entries.last?.parent }
  /// Where this timeline branched off its parent.
  public var switchpoint: UInt64? { entries.last?.switchpoint }
  /// Every timeline on the way here, oldest first, ending with this one.
  public var ancestry: [Int] { entries.map(\.parent) + [timeline] }

  /// `X/Y` (two hex numbers of up to 8 digits, as PostgreSQL prints an LSN) to a 64-bit LSN.
  public static func lsn(_ text: String) -> UInt64? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, parts.allSatisfy({ (1...8).contains($0.count) }),
      let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16)
    else { return nil }
    return high << 32 | low
  }

  public static func fileName(timeline: Int) -> String { String(format: "%08X.history", timeline) }
}
