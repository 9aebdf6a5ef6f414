import Foundation
import NexusCore

/// The acknowledgement log of a sync client: `SEQ<TAB>ISO-TIME` per line.
public enum AcknowledgementLog {
  public struct Entry: Sendable, Hashable {
    public var seq: Int64
    public var at: Date

    public init(seq: Int64, at: Date) {
      self.seq = seq
      self.at = at
    }
  }

  /// The log's complete lines; a torn last line (the client writing) is left out.
  public static func read(_ path: String) throws(ConfigError) -> [Entry] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigError(
        .fileUnreadable, file: path, message: "cannot read the acknowledgement log",
        hint: "rehearsal.acknowledgements.log names a file on this machine")
    }
    return parse(String(decoding: data, as: UTF8.self))
  }

  public static func parse(_ text: String) -> [Entry] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if !text.hasSuffix("\n") { lines.removeLast() }
    return lines.compactMap { line in
      let fields = line.split(separator: "\t")
      guard fields.count == 2, let seq = Int64(fields[0]), let at = parseTime(String(fields[1])) else { return nil }
      return Entry(seq: seq, at: at)
    }
  }

  static func parseTime(_ text: String) -> Date? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let date = JournalTime.parse(trimmed) { return date }
    return try? Date(trimmed, strategy: .iso8601)
  }

  /// What a recovery lost of what the client had been promised before the failure: records
  /// acknowledged up to `failure` and present before it (`presentBefore`, or acknowledged after
  /// that baseline was taken), missing from `presentAfter`.
  public static func loss(
    device: String, entries: [Entry], baselineTakenAt: Date, presentBefore: Set<Int64>, failure: Date, recovered: Date,
    presentAfter: Set<Int64>
  ) -> RehearsalResult.DataLoss {
    let promised = entries.filter { $0.at <= failure && (presentBefore.contains($0.seq) || $0.at > baselineTakenAt) }
    let lost = promised.filter { !presentAfter.contains($0.seq) }.sorted { $0.at < $1.at }
    let after = entries.filter { $0.at > failure && $0.at <= recovered }
    let lostAfter = after.filter { !presentAfter.contains($0.seq) }
    let windowMs = lost.first.map { Int64(max(0, failure.timeIntervalSince($0.at)) * 1000) } ?? 0
    return .init(
      device: device, acknowledged: promised.count, lost: lost.count, lostSeqs: Array(lost.map(\.seq).prefix(200)),
      windowStart: lost.first.map { JournalTime.format($0.at) } ?? "",
      windowEnd: lost.last.map { JournalTime.format($0.at) } ?? "",
      windowMs: windowMs, acknowledgedAfter: after.count, lostAfter: lostAfter.count)
  }
}
