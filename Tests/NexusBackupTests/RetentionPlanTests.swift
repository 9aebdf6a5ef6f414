import NexusBackup
import Testing

@Suite("Retention")
struct RetentionPlanTests {
  func items(_ days: ClosedRange<Int>, invalid: Set<Int> = []) -> [RetentionPlan.Item] {
    days.map { day in
      let date = String(format: "202611%02d", day)
      return RetentionPlan.Item(name: "nexus_\(date).dump", date: date, valid: !invalid.contains(day))
    }
  }

  @Test("ten days keep the seven newest")
  func keepSeven() {
    let plan = RetentionPlan.make(items: items(1...10), keep: 7, current: "nexus_20261110.dump")
    #expect(plan.keep.map(\.date) == (4...10).reversed().map { String(format: "202611%02d", $0) })
    #expect(plan.remove.map(\.date) == ["20261103", "20261102", "20261101"])
  }

  @Test("when tonight's dump is not the newest valid one, nothing is removed")
  func failedTonight() {
    let plan = RetentionPlan.make(items: items(1...10, invalid: [10]), keep: 7, current: "nexus_20261110.dump")
    #expect(plan.remove.isEmpty)
    #expect(plan.heldBack != nil)
  }

  @Test("the newest valid dump is kept even behind newer invalid ones")
  func newestValidKept() {
    let plan = RetentionPlan.make(items: items(1...10, invalid: [4, 5, 6, 7, 8, 9, 10]), keep: 7, current: nil)
    #expect(plan.keep.contains { $0.date == "20261103" })
    #expect(!plan.remove.contains { $0.date == "20261103" })
  }

  @Test("names it does not recognise have no date")
  func recognition() {
    #expect(RetentionPlan.date(in: "nexus_20261127.dump", prefix: "nexus", suffix: ".dump") == "20261127")
    #expect(RetentionPlan.date(in: ".nexus_20261127.dump.partial", prefix: "nexus", suffix: ".dump") == nil)
    #expect(RetentionPlan.date(in: "nexus_2026112.dump", prefix: "nexus", suffix: ".dump") == nil)
    #expect(RetentionPlan.date(in: "notes.txt", prefix: "nexus", suffix: ".dump") == nil)
  }

  @Test("size anomaly: outside ±50% of the median")
  func anomaly() {
    #expect(!SizeAnomaly.evaluate(size: 100, others: [90, 100, 110]).anomalous)
    #expect(SizeAnomaly.evaluate(size: 40, others: [90, 100, 110]).anomalous)
    #expect(SizeAnomaly.evaluate(size: 160, others: [90, 100, 110]).anomalous)
    #expect(!SizeAnomaly.evaluate(size: 160, others: []).anomalous)
  }
}

@Suite("WAL segment arithmetic")
struct WALSegmentTests {
  @Test("an LSN maps to its 16 MiB segment on its timeline")
  func segments() {
    #expect(WALSegment.name(lsn: "0/B000028", timeline: 1) == "00000001000000000000000B")
    #expect(WALSegment.name(lsn: "1/2000000", timeline: 2) == "000000020000000100000002")
    #expect(WALSegment.name(lsn: "0/FFFFFFFF", timeline: 1) == "0000000100000000000000FF")
    #expect(WALSegment.name(lsn: "garbage", timeline: 1) == nil)
  }
}

@Suite("WAL chain from a base backup")
struct WALChainTests {
  @Test("an unbroken run, across a log boundary and onto the next timeline, reaches its last segment")
  func unbroken() {
    let archived = [
      "0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000",
      "00000002.history", "000000020000000100000001", "000000010000000100000001.partial", "000000020000000100000002",
    ]
    let chain = WALChain.check(archived: archived, from: "0000000100000000000000FE")
    #expect(chain.unbroken)
    #expect(chain.last == "000000020000000100000002")
    #expect(chain.beyondGap == 0)
  }

  @Test("a gap ends the chain: the first missing segment and what lies beyond are reported")
  func gap() {
    let archived = [
      "000000010000000000000003", "000000010000000000000004", "000000010000000000000006", "000000010000000000000007",
    ]
    let chain = WALChain.check(archived: archived, from: "000000010000000000000003")
    #expect(!chain.unbroken)
    #expect(chain.last == "000000010000000000000004")
    #expect(chain.firstMissing == "000000010000000000000005")
    #expect(chain.beyondGap == 2)
  }

  @Test("without the base backup's first segment there is no chain")
  func missingStart() {
    let chain = WALChain.check(archived: ["000000010000000000000004"], from: "000000010000000000000003")
    #expect(chain.last == nil)
    #expect(!chain.unbroken)
    #expect(WALChain.number("00000001000000000000000g") == nil)
    #expect(WALChain.number("000000010000000000000100") == nil, "segment part above FF is not a 16 MiB segment name")
  }
}
