import Foundation
import Testing

@testable import NexusBackup

/// An archive under construction: file names with their archive times, and parsed history files.
private struct Archive {
  var files: [String: Date] = [:]
  var histories: [Int: TimelineHistory] = [:]

  static let epoch = Date(timeIntervalSince1970: 1_750_000_000)
  /// `minutes` after the epoch.
  static func at(_ minutes: Int) -> Date { epoch.addingTimeInterval(Double(minutes) * 60) }

  /// Segments `numbers` on `timeline`, archived `step` minutes apart from minute `from`.
  mutating func segments(_ timeline: Int, _ numbers: ClosedRange<UInt64>, from: Int, step: Int = 10) {
    for (index, number) in numbers.enumerated() { files[seg(timeline, number)] = Self.at(from + index * step) }
  }

  /// `timeline`'s history file with `contents`, archived at minute `minute`.
  mutating func history(_ timeline: Int, _ contents: String, at minute: Int) throws {
    let name = TimelineHistory.fileName(timeline: timeline)
    histories[timeline] = try TimelineHistory(parsing: contents, file: name)
    files[name] = Self.at(minute)
  }

  mutating func remove(_ name: String) { files[name] = nil }

  var model: WALTimelines { WALTimelines(files: files, histories: histories) }
}

private func seg(_ timeline: Int, _ number: UInt64) -> String { WALChain.name(number: number, timeline: timeline) }
private func at(_ minutes: Int) -> Date { Archive.at(minutes) }

/// A standby promoted with its switch point in segment 5: the old primary's last segment is archived only as `.partial`.
private func promotion() throws -> Archive {
  var archive = Archive()
  archive.segments(1, 1...4, from: 1, step: 1)
  archive.files["000000010000000000000005.partial"] = at(5)
  try archive.history(2, "1\t0/5000100\tno recovery target specified\n", at: 5)
  archive.segments(2, 5...8, from: 6, step: 1)
  return archive
}

/// A point-in-time recovery to a point in segment 5, after TL1 had been archived up to segment 8:
/// TL1 minutes 10–80, TL2 created at minute 100, its segments 5–9 at minutes 110–150.
private func pitr() throws -> Archive {
  var archive = Archive()
  archive.segments(1, 1...8, from: 10)
  try archive.history(2, "1\t0/5000100\tbefore 2025-06-15 10:00:00+00\n", at: 100)
  archive.segments(2, 5...9, from: 110)
  return archive
}

/// `pitr()`, then a second recovery along TL1 to a point in segment 7 (after TL2's branch point),
/// creating TL3 (parent TL1) at minute 200, its segments 7–10 at minutes 210–240.
private func twoRecoveries() throws -> Archive {
  var archive = try pitr()
  try archive.history(3, "1\t0/7000200\tbefore 2025-06-15 10:30:00+00\n", at: 200)
  archive.segments(3, 7...10, from: 210)
  return archive
}

@Suite("WAL timelines")
struct WALTimelinesTests {
  @Test("one timeline, unbroken, with a gap and with its start missing: the same chain as WALChain.check")
  func oneTimeline() {
    var archive = Archive()
    archive.segments(1, 1...6, from: 0)
    let unbroken = archive.model.chain(from: seg(1, 1), along: 1)
    #expect(unbroken == WALChain.check(archived: archive.files.keys, from: seg(1, 1)))
    #expect(unbroken == WALChain(start: seg(1, 1), last: seg(1, 6), firstMissing: nil, beyondGap: 0))

    archive.remove(seg(1, 4))
    let gap = archive.model.chain(from: seg(1, 1), along: 1)
    #expect(gap == WALChain.check(archived: archive.files.keys, from: seg(1, 1)))
    #expect(gap == WALChain(start: seg(1, 1), last: seg(1, 3), firstMissing: seg(1, 4), beyondGap: 2))

    let missingStart = archive.model.chain(from: seg(1, 0), along: 1)
    #expect(missingStart == WALChain.check(archived: archive.files.keys, from: seg(1, 0)))
    #expect(missingStart.firstMissing == seg(1, 0))
  }

  @Test("branched in segment 5: segments 1–4 come from TL1, 5 on from TL2; TL1's .partial is never a segment")
  func promotedStandby() throws {
    var archive = try promotion()
    let model = archive.model
    let two = try #require(model.timelines[2])
    #expect(two.parent == 1)
    #expect(two.switchpoint == 0x500_0100)
    #expect(two.beginSegment == 5)
    #expect(two.ancestry == [1, 2])
    #expect(two.firstSegment == seg(2, 5) && two.firstArchived == at(6))
    #expect(two.lastSegment == seg(2, 8) && two.lastArchived == at(9))
    #expect(two.historyArchived == at(5))
    let one = try #require(model.timelines[1])
    #expect(one.parent == nil && one.switchpoint == nil && one.beginSegment == 0)
    #expect(one.lastSegment == seg(1, 4))

    #expect(
      model.chain(from: seg(1, 1), along: 2)
        == WALChain(start: seg(1, 1), last: seg(2, 8), firstMissing: nil, beyondGap: 0))
    // Along TL1 alone the archive ends at 4: the .partial is not the segment PostgreSQL asks for.
    #expect(
      model.chain(from: seg(1, 1), along: 1)
        == WALChain(start: seg(1, 1), last: seg(1, 4), firstMissing: nil, beyondGap: 0))

    // Without TL2's segment 5 the .partial does not fill the gap.
    archive.remove(seg(2, 5))
    #expect(
      archive.model.chain(from: seg(1, 1), along: 2)
        == WALChain(start: seg(1, 1), last: seg(1, 4), firstMissing: seg(2, 5), beyondGap: 3))
  }

  @Test("a segment missing on TL2 is not filled by TL1's segment of the same number (WALChain.check would fill it)")
  func noFillFromOtherTimeline() throws {
    var archive = try pitr()
    archive.remove(seg(2, 7))
    let byNumber = WALChain.check(archived: archive.files.keys, from: seg(1, 1))
    #expect(byNumber.unbroken)
    #expect(byNumber.last == seg(2, 9))

    let byTimeline = archive.model.chain(from: seg(1, 1), along: 2)
    #expect(!byTimeline.unbroken)
    // TL1's 7 and 8 exist but are not on the way to TL2, so they are neither used nor counted beyond the gap.
    #expect(byTimeline == WALChain(start: seg(1, 1), last: seg(2, 6), firstMissing: seg(2, 7), beyondGap: 2))
  }

  @Test("a target on the abandoned branch (TL1 after the switch) is followed along TL1, and TL2 fills none of its gaps")
  func abandonedBranch() throws {
    var archive = try pitr()
    #expect(
      archive.model.chain(from: seg(1, 1), along: 1)
        == WALChain(start: seg(1, 1), last: seg(1, 8), firstMissing: nil, beyondGap: 0))
    // A base backup taken on TL1 after the switch point still reaches TL1's end.
    #expect(archive.model.chain(from: seg(1, 6), along: 1).last == seg(1, 8))

    archive.remove(seg(1, 6))
    #expect(
      archive.model.chain(from: seg(1, 1), along: 1)
        == WALChain(start: seg(1, 1), last: seg(1, 5), firstMissing: seg(1, 6), beyondGap: 2))
  }

  @Test("a base backup that cannot reach the target: off its ancestry, after the switch, unknown target, not a segment")
  func unreachable() throws {
    let model = try pitr().model
    let none = WALChain(start: seg(2, 6), last: nil, firstMissing: nil, beyondGap: 0)
    #expect(model.unreachable(from: seg(2, 6), along: 1) == .notOnPath(timeline: 2))
    #expect(model.chain(from: seg(2, 6), along: 1) == none)
    #expect(model.unreachable(from: seg(1, 6), along: 2) == .startsAfterSwitch(timeline: 1, switchpoint: 0x500_0100))
    #expect(model.chain(from: seg(1, 6), along: 2).last == nil)
    #expect(model.unreachable(from: seg(1, 1), along: 7) == .noHistory(target: 7))
    #expect(model.unreachable(from: "00000001.history", along: 1) == .notASegment("00000001.history"))
    #expect(
      model.unreachable(from: seg(1, 6), along: 2)?.description
        == "the backup starts after the target left timeline 1 at 0/5000100")

    // Starting in the switch segment itself is allowed; the child's copy of it is read.
    #expect(model.unreachable(from: seg(1, 5), along: 2) == nil)
    #expect(
      model.chain(from: seg(1, 5), along: 2)
        == WALChain(start: seg(1, 5), last: seg(2, 9), firstMissing: nil, beyondGap: 0))
    // An unreachable target is told apart from a missing start, whose firstMissing is the start.
    #expect(model.chain(from: seg(1, 0), along: 2).firstMissing == seg(1, 0))
  }

  @Test("three timelines: TL3 branched from TL1 after TL2 did; each target follows its own ancestry")
  func twoRecoveriesInARow() throws {
    var archive = try twoRecoveries()
    let model = archive.model
    let three = try #require(model.timelines[3])
    #expect(three.parent == 1 && three.ancestry == [1, 3] && three.beginSegment == 7)
    #expect(
      model.chain(from: seg(1, 1), along: 3)
        == WALChain(start: seg(1, 1), last: seg(3, 10), firstMissing: nil, beyondGap: 0))
    #expect(model.chain(from: seg(1, 1), along: 2).last == seg(2, 9))
    #expect(model.chain(from: seg(1, 1), along: 1).last == seg(1, 8))
    // A base backup on TL1 after TL2 branched but before TL3 did reaches TL3, not TL2.
    #expect(model.chain(from: seg(1, 6), along: 3).last == seg(3, 10))
    #expect(model.unreachable(from: seg(1, 6), along: 2) != nil)

    // Segment 6 on the way to TL3 is TL1's; TL2's 6 does not replace it.
    archive.remove(seg(1, 6))
    #expect(
      archive.model.chain(from: seg(1, 1), along: 3)
        == WALChain(start: seg(1, 1), last: seg(1, 5), firstMissing: seg(1, 6), beyondGap: 4))
  }

  @Test("timeline(at:): the lowest before any switch, then each new timeline from its creation on")
  func timelineAtDate() throws {
    var archive = try twoRecoveries()
    let model = archive.model
    #expect(model.timeline(at: at(-60)) == 1)
    #expect(model.timeline(at: at(50)) == 1)
    #expect(model.timeline(at: at(99)) == 1)
    #expect(model.timeline(at: at(100)) == 2)
    #expect(model.timeline(at: at(150)) == 2)
    #expect(model.timeline(at: at(200)) == 3)
    #expect(model.timeline(at: at(10_000)) == 3)

    // Without the history file's time TL3 counts from its first segment (minute 210).
    archive.remove(TimelineHistory.fileName(timeline: 3))
    #expect(archive.model.timeline(at: at(205)) == 2)
    #expect(archive.model.timeline(at: at(210)) == 3)
    #expect(WALTimelines(files: [:], histories: [:]).timeline(at: at(0)) == 1)
  }

  @Test("branches: a fork after the base lists every branch, newest first, with its ancestry and time range")
  func branchesAfterFork() throws {
    let branches = try twoRecoveries().model.branches(from: seg(1, 1))
    #expect(branches.map(\.timeline) == [3, 2, 1])
    #expect(branches.map(\.ancestry) == [[1, 3], [1, 2], [1]])
    #expect(branches.map(\.firstArchived) == [at(10), at(10), at(10)])
    #expect(branches.map(\.lastArchived) == [at(240), at(150), at(80)])
    #expect(branches.map { $0.chain.last } == [seg(3, 10), seg(2, 9), seg(1, 8)])

    // A promotion leaves TL1 ending at the .partial: only TL2 is a branch.
    let promoted = try promotion().model.branches(from: seg(1, 1))
    #expect(promoted.map(\.timeline) == [2])
    #expect(promoted.first?.firstArchived == at(1) && promoted.first?.lastArchived == at(9))
  }

  @Test("branches: a fork before the base is not offered; from a base on TL2 there is one branch only")
  func branchesForkBeforeBase() throws {
    let model = try twoRecoveries().model
    let onTwo = model.branches(from: seg(2, 6))
    #expect(onTwo.map(\.timeline) == [2])
    #expect(onTwo.first?.ancestry == [1, 2])
    #expect(onTwo.first?.firstArchived == at(120) && onTwo.first?.lastArchived == at(150))

    // On TL1 after TL2's branch point (segment 5) but before TL3's (7): TL3 and TL1 remain, TL2 does not.
    #expect(model.branches(from: seg(1, 6)).map(\.timeline) == [3, 1])
  }

  @Test("a history file: ancestry, switch points and reasons; blank lines and comments skipped; LSNs to UInt64")
  func parseHistory() throws {
    let contents =
      "1\t0/5000100\tbefore 2025-06-15 10:00:00+00\n\n  # a comment\n2\t16/B374D848\tno recovery target specified\r\n"
    let history = try TimelineHistory(parsing: contents, file: "/mnt/nas/wal/00000003.history")
    #expect(history.timeline == 3)
    #expect(
      history.entries == [
        .init(parent: 1, switchpoint: 0x500_0100, reason: "before 2025-06-15 10:00:00+00"),
        .init(parent: 2, switchpoint: 0x16_B374_D848, reason: "no recovery target specified"),
      ])
    #expect(history.parent == 2 && history.switchpoint == 0x16_B374_D848)
    #expect(history.ancestry == [1, 2, 3])
    #expect(try TimelineHistory(parsing: "1\t0/5000100\n", file: "00000002.history").entries.first?.reason == "")
    #expect(TimelineHistory.lsn("1/2") == 0x1_0000_0002)
    #expect(TimelineHistory.lsn("0/5000100") == 0x500_0100)
    #expect(TimelineHistory.lsn("5000100") == nil)
    #expect(TimelineHistory.lsn("1/123456789") == nil)
  }

  @Test(
    "a malformed history line is an error naming the file and the line number",
    arguments: [
      ("1\t0/5000100\tfine\nnot a line\n", 2),
      ("# comment\n\n1\t0-5000100\tbad location\n", 3),
      ("1\t0/5000100\tfine\n2\n", 2),
      ("2\t0/5000100\tfine\n1\t0/6000000\tgoes back\n", 2),
      ("1\t0/5000100\tfine\n3\t0/6000000\tnot below the file's timeline\n", 2),
    ])
  func malformedHistory(contents: String, line: Int) throws {
    let error = #expect(throws: TimelineHistory.Malformed.self) {
      try TimelineHistory(parsing: contents, file: "00000003.history")
    }
    #expect(error?.file == "00000003.history")
    #expect(error?.line == line)
    #expect(error?.description.hasPrefix("00000003.history line \(line): ") == true)
  }

  @Test("a history file with a wrong name is refused")
  func wrongHistoryName() {
    let error = #expect(throws: TimelineHistory.Malformed.self) {
      try TimelineHistory(parsing: "", file: "timeline.txt")
    }
    #expect(error?.line == 0)
  }
}
