import Foundation

/// The archive's timelines and which segments recovery to a given timeline reads.
///
/// After a point-in-time recovery or a promotion the archive holds segments of two
/// or more timelines with overlapping numbers. Recovery to a target timeline reads
/// segment N from one timeline only: `XLogFileReadAnyTLI` (xlogrecovery.c) scans the
/// target's history newest first, skips timelines whose first segment (the one
/// holding their switch point) is after N, and never goes back to an older timeline
/// once it has read a newer one. So the segment holding a switch point comes from
/// the child, the parent's copy of it is archived only as `.partial` (never asked
/// for), and a segment missing on the path is a gap that another timeline's segment
/// of the same number does not fill, whatever `WALChain.check` says.
public struct WALTimelines: Sendable {
  /// What the archive says about one timeline.
  public struct Timeline: Sendable, Equatable {
    public var id: Int
    /// From its history file; nil for timeline 1, or when the history file is missing.
    public var parent: Int?
    /// The LSN where it branched off `parent`.
    public var switchpoint: UInt64?
    /// The segment number holding `switchpoint`: the first segment recovery reads from this timeline (0 without a parent).
    public var beginSegment: UInt64
    /// Oldest first, ending with `id` (just `[id]` without a history file).
    public var ancestry: [Int]
    /// First and last complete segment archived on this timeline (`.partial` files do not count) and their archive times.
    public var firstSegment: String?
    public var lastSegment: String?
    public var firstArchived: Date?
    public var lastArchived: Date?
    /// When its history file was archived: the moment recovery ended and the timeline began.
    public var historyArchived: Date?
    /// `historyArchived`, or the first segment's time when the history file's time is unknown.
    public var created: Date? { historyArchived ?? firstArchived }
  }

  /// Why a base backup cannot reach a target timeline.
  public enum Unreachable: Sendable, Equatable, CustomStringConvertible {
    /// The base backup's start is not a WAL segment name.
    case notASegment(String)
    /// The target (not timeline 1) has no history file, so its ancestry is unknown; PostgreSQL refuses such a target too.
    case noHistory(target: Int)
    /// The base backup's timeline is not the target nor one of its ancestors.
    case notOnPath(timeline: Int)
    /// The base backup starts after the point where the way to the target left its timeline.
    case startsAfterSwitch(timeline: Int, switchpoint: UInt64)

    public var description: String {
      switch self {
      case .notASegment(let name): "\(name) is not a WAL segment name"
      case .noHistory(let target): "timeline \(target) has no history file in the archive"
      case .notOnPath(let timeline): "timeline \(timeline) is not in the target's history"
      case .startsAfterSwitch(let timeline, let switchpoint):
        "the backup starts after the target left timeline \(timeline) at \(String(switchpoint >> 32, radix: 16, uppercase: true))/\(String(switchpoint & 0xFFFF_FFFF, radix: 16, uppercase: true))"
      }
    }
  }

  /// A timeline recovery from a base backup can end on, with the WAL that leads there.
  public struct Branch: Sendable, Equatable {
    public var timeline: Int
    /// Oldest first, ending with `timeline`.
    public var ancestry: [Int]
    /// Archive times of the earliest and latest segment on the way, from the base backup's start on.
    public var firstArchived: Date?
    public var lastArchived: Date?
    /// The unbroken run along this branch.
    public var chain: WALChain
  }

  /// Every timeline seen in segment names or history files (including ancestors), by ID.
  public private(set) var timelines: [Int: Timeline] = [:]
  private var histories: [Int: TimelineHistory]
  private var times: [String: Date]
  /// Complete segments by timeline: number → name.
  private var segments: [Int: [UInt64: String]] = [:]

  private static let segmentSize: UInt64 = 16 << 20

  /// `files`: the archive's file names with their archive times (mtime on the NAS); names that are
  /// not complete segments are only used for the times of `.history` files.
  /// `histories`: the parsed history files, keyed by the timeline each belongs to.
  public init(files: [String: Date], histories: [Int: TimelineHistory]) {
    self.histories = histories
    self.times = files
    for name in files.keys {
      guard let number = WALChain.number(name), let timeline = WALChain.timeline(name) else { continue }
      segments[timeline, default: [:]][number] = name
    }
    let ids = Set(segments.keys).union(histories.keys).union(histories.values.flatMap(\.ancestry))
    for id in ids {
      let history = histories[id]
      let own = segments[id] ?? [:]
      let first = own.keys.min().flatMap { own[$0] }
      let last = own.keys.max().flatMap { own[$0] }
      timelines[id] = Timeline(
        id: id, parent: history?.parent, switchpoint: history?.switchpoint,
        beginSegment: (history?.switchpoint ?? 0) / Self.segmentSize, ancestry: history?.ancestry ?? [id],
        firstSegment: first, lastSegment: last, firstArchived: first.flatMap { files[$0] },
        lastArchived: last.flatMap { files[$0] }, historyArchived: files[TimelineHistory.fileName(timeline: id)])
    }
  }

  /// One timeline on the way to a target: recovery reads it from segment `begin` on, until a newer one begins.
  private struct Leg {
    var timeline: Int
    var begin: UInt64
    /// The LSN where the way left it (nil for the target).
    var end: UInt64?
  }

  /// The target's history as recovery sees it (readTimeLineHistory): no history file means no parents.
  private func legs(to target: Int) -> [Leg] {
    guard let history = histories[target] else { return [Leg(timeline: target, begin: 0, end: nil)] }
    var legs: [Leg] = []
    var begin: UInt64 = 0
    for entry in history.entries {
      legs.append(Leg(timeline: entry.parent, begin: begin, end: entry.switchpoint))
      begin = entry.switchpoint / Self.segmentSize
    }
    return legs + [Leg(timeline: target, begin: begin, end: nil)]
  }

  /// The timeline segment `number` is read from: the newest leg that has begun by then.
  private func timeline(of number: UInt64, on legs: [Leg]) -> Int {
    legs.last(where: { $0.begin <= number })?.timeline ?? legs.first?.timeline ?? 1
  }

  /// Why recovery from a base backup starting at `baseStartSegment` cannot reach `target`, or nil when it can.
  /// A start in the very segment where its timeline was left counts as reachable: the name cannot tell
  /// whether the backup began before the switch point (PostgreSQL checks that at start-up).
  public func unreachable(from baseStartSegment: String, along target: Int) -> Unreachable? {
    guard let start = WALChain.number(baseStartSegment), let base = WALChain.timeline(baseStartSegment) else {
      return .notASegment(baseStartSegment)
    }
    if base != target, target != 1, histories[target] == nil { return .noHistory(target: target) }
    guard let leg = legs(to: target).first(where: { $0.timeline == base }) else { return .notOnPath(timeline: base) }
    if let end = leg.end, start > end / Self.segmentSize { return .startsAfterSwitch(timeline: base, switchpoint: end) }
    return nil
  }

  /// Segment numbers archived on the way to `target`, each on the timeline recovery reads it from.
  private func path(to target: Int) -> (legs: [Leg], numbers: [UInt64: String]) {
    let legs = legs(to: target)
    var numbers: [UInt64: String] = [:]
    for leg in legs {
      for (number, name) in segments[leg.timeline] ?? [:] where timeline(of: number, on: legs) == leg.timeline {
        numbers[number] = name
      }
    }
    return (legs, numbers)
  }

  /// The unbroken run of WAL recovery to `target` can read from `baseStartSegment`, as a `WALChain`:
  /// each segment is looked for on the timeline the target's history prescribes, names are those,
  /// and `beyondGap` counts only segments on that path. When the target is unreachable (see
  /// `unreachable(from:along:)`) the chain has neither `last` nor `firstMissing`, unlike a merely
  /// missing start, whose `firstMissing` is the start.
  public func chain(from baseStartSegment: String, along target: Int) -> WALChain {
    guard unreachable(from: baseStartSegment, along: target) == nil, let first = WALChain.number(baseStartSegment)
    else {
      return WALChain(start: baseStartSegment, last: nil, firstMissing: nil, beyondGap: 0)
    }
    let (legs, numbers) = path(to: target)
    let expected = { (number: UInt64) in WALChain.name(number: number, timeline: self.timeline(of: number, on: legs)) }
    guard numbers[first] != nil else {
      return WALChain(
        start: baseStartSegment, last: nil, firstMissing: expected(first),
        beyondGap: numbers.keys.filter { $0 > first }.count)
    }
    var current = first
    while numbers[current + 1] != nil { current += 1 }
    let beyond = numbers.keys.filter { $0 > current }.count
    return WALChain(
      start: baseStartSegment, last: expected(current), firstMissing: beyond > 0 ? expected(current + 1) : nil,
      beyondGap: beyond)
  }

  /// The timeline production was on at `date`: the one created last at or before it (by its history
  /// file's archive time, else its first segment's), or the lowest before any switch.
  public func timeline(at date: Date) -> Int {
    let ordered = timelines.values.sorted { $0.id < $1.id }
    guard let lowest = ordered.first else { return 1 }
    let switched = ordered.dropFirst().compactMap { timeline in timeline.created.map { (created: $0, id: timeline.id) }
    }
    .filter { $0.created <= date }
    return switched.max { ($0.created, $0.id) < ($1.created, $1.id) }?.id ?? lowest.id
  }

  /// Where recovery from `baseStartSegment` can end, newest timeline first: every reachable timeline
  /// nothing reachable branched from, and every one that kept being archived in or after the segment
  /// where its newest reachable child branched (the abandoned side of a point-in-time recovery, which
  /// holds the WAL written after the recovery target). Two or more: the archive forks after the base backup.
  public func branches(from baseStartSegment: String) -> [Branch] {
    let reachable = timelines.keys.filter { unreachable(from: baseStartSegment, along: $0) == nil }
    let ends = reachable.filter { id in
      let children = reachable.compactMap { timelines[$0] }.filter { $0.parent == id }.map(\.beginSegment)
      guard let newestBranch = children.max() else { return true }
      guard let last = timelines[id]?.lastSegment.flatMap(WALChain.number) else { return false }
      return last >= newestBranch
    }
    let start = WALChain.number(baseStartSegment) ?? 0
    return ends.sorted(by: >).map { id in
      let dates = path(to: id).numbers.filter { $0.key >= start }.compactMap { times[$0.value] }
      return Branch(
        timeline: id, ancestry: histories[id]?.ancestry ?? [id], firstArchived: dates.min(), lastArchived: dates.max(),
        chain: chain(from: baseStartSegment, along: id))
    }
  }
}
