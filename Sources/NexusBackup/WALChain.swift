import Foundation
import NexusCore

/// WAL segment names.
public enum WALSegment {
  /// The segment holding `lsn` (`X/Y`) on `timeline`, for the default 16 MiB segments.
  public static func name(lsn: String, timeline: Int) -> String? {
    let parts = lsn.split(separator: "/")
    guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16) else {
      return nil
    }
    let number = ((high << 32) | low) / (16 << 20)
    return String(format: "%08X%08X%08X", timeline, Int(number / 0x100), Int(number % 0x100))
  }
}

/// The unbroken run of archived WAL from a base backup's first segment: what
/// point-in-time recovery from that backup can reach. Segments are compared by
/// number whatever their timeline (a promotion continues the same numbers on
/// the next timeline, whose history file recovery follows).
public struct WALChain: Sendable, Equatable {
  /// The base backup's first segment.
  public var start: String
  /// The last segment of the unbroken run (nil: not even `start` is archived).
  public var last: String?
  /// The first segment missing after `last`, when later segments exist (a gap).
  public var firstMissing: String?
  /// How many segments were archived beyond the gap (unreachable by recovery).
  public var beyondGap: Int

  /// A 24-hex-digit segment name's number (log × 256 + segment, for 16 MiB segments).
  public static func number(_ name: String) -> UInt64? {
    guard name.utf8.count == 24, name.allSatisfy(\.isHexDigit), name.uppercased() == name,
      let log = UInt64(name.dropFirst(8).prefix(8), radix: 16), let segment = UInt64(name.suffix(8), radix: 16),
      segment < 0x100
    else { return nil }
    return log * 0x100 + segment
  }

  public static func timeline(_ name: String) -> Int? {
    guard number(name) != nil else { return nil }
    return Int(name.prefix(8), radix: 16)
  }

  public static func name(number: UInt64, timeline: Int) -> String {
    String(format: "%08X%08X%08X", timeline, Int(number / 0x100), Int(number % 0x100))
  }

  /// Checks `archived` (file names; `.history`, `.partial` and `.backup` files are ignored) from `start`.
  public static func check(archived: some Sequence<String>, from start: String) -> WALChain {
    guard let first = number(start), let timeline = timeline(start) else {
      return WALChain(start: start, last: nil, firstMissing: start, beyondGap: 0)
    }
    let numbers = Set(archived.compactMap(number))
    guard numbers.contains(first) else {
      return WALChain(start: start, last: nil, firstMissing: start, beyondGap: numbers.filter { $0 > first }.count)
    }
    var current = first
    while numbers.contains(current + 1) { current += 1 }
    let beyond = numbers.filter { $0 > current }.count
    let lastName = archived.filter { number($0) == current }.max() ?? name(number: current, timeline: timeline)
    return WALChain(
      start: start, last: lastName, firstMissing: beyond > 0 ? name(number: current + 1, timeline: timeline) : nil,
      beyondGap: beyond)
  }

  public var unbroken: Bool { last != nil && firstMissing == nil }
}
