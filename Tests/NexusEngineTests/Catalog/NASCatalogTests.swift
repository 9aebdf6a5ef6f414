import Foundation
import NexusBackup
import Testing

@testable import NexusEngine

@Suite("Restore points")
struct NASCatalogTests {
  let listing = """
    root\t/nas\t/nas ext4\t123456789
    base\t/nas\t20261115\t13000000\t52000000\t1763200000\t"Timeline":1,"Start-LSN":"0/2000028"
    base\t/nas\t20261122\t14000000\t53000000\t1763800000\t"Timeline":1,"Start-LSN":"0/9000028"
    base\t/nas\tbroken\t1\t1\t1\tgarbage
    wal\t000000010000000000000009\t1763800100.5
    wal\t00000001000000000000000A\t1763800200.25
    wal\t00000001000000000000000B.partial\t1763800300
    avail\t987654321

    """

  @Test(
    "the host's listing: base backups newest first with their first segment, segments with their archive time, free space"
  )
  func parse() throws {
    let sources = NASCatalog.parse(listing)
    #expect(
      sources.bases.map(\.name) == ["20261122", "20261115"], "a base backup whose manifest gives no start is not one")
    let newest = try #require(sources.bases.first)
    #expect(newest.startSegment == "000000010000000000000009")
    #expect(newest.dataBytes == 53_000_000)
    #expect(sources.available == 987_654_321)
    #expect(sources.nasAvailable == 123_456_789)
    let chain = sources.chain(from: newest, along: 1)
    #expect(chain.unbroken)
    #expect(chain.last == "00000001000000000000000A")
    #expect(sources.walBytes(chain) == 2 * 16 << 20)
    #expect(sources.archivedAt("00000001000000000000000A") == Date(timeIntervalSince1970: 1763800200.25))
    #expect(
      sources.chain(from: sources.bases[1], along: 1).last == nil, "the older backup's first segment is not archived")
  }

  @Test(
    "history files come in the same listing; after a recovery the chain follows one timeline, and a base backup that leads to it is chosen"
  )
  func timelines() throws {
    // Timeline 2 branched from 1 inside segment 0A (switch point 0/A000100).
    let history = Data("1\t0/A000100\tbefore 2026-11-22 10:00:00+00\n".utf8).base64EncodedString()
    let sources = NASCatalog.parse(
      listing + """
        wal\t00000002000000000000000A\t1763800400
        wal\t00000002.history\t1763800399
        history\t00000002.history\t\(history)
        history\t00000003.history\tnot base64 at all!
        wal\t00000002000000000000000C\t1763800600

        """)
    #expect(sources.histories[2]?.parent == 1)
    #expect(sources.archiveCluster == nil)
    #expect(NASCatalog.parse("cluster\t/nas\t7443210987654321098\n").archiveCluster == "7443210987654321098")
    #expect(sources.timelines.timeline(at: Date(timeIntervalSince1970: 1_763_800_300)) == 1)
    #expect(sources.timelines.timeline(at: Date(timeIntervalSince1970: 1_763_800_500)) == 2)
    let newest = try #require(sources.bases.first)
    // Along 2: 09 from timeline 1, then 0A from 2; 0B is missing on 2 — and 1's 0B is only .partial.
    let chain = sources.chain(from: newest, along: 2)
    #expect(chain.last == "00000002000000000000000A")
    #expect(chain.firstMissing == "00000002000000000000000B")
    #expect(sources.base(reaching: 2)?.name == "20261122")
    #expect(sources.base(reaching: 2, before: Date(timeIntervalSince1970: 1_763_500_000))?.name == "20261115")
  }

  @Test(
    "WAL pruning takes archive files before the oldest base backup's start and older than the cutoff; never history, never the spool"
  )
  func prunable() {
    let catalog = NASCatalog.parse(
      """
      wal\t000000010000000000000007\t1000
      wal\t000000010000000000000008.00000028.backup\t1000
      wal\t000000010000000000000008.partial\t1000
      wal\t00000001.history\t1000
      wal\t000000010000000000000009\t1000
      wal\t000000010000000000000006\t5000
      spool\t000000010000000000000005\t1000

      """)
    #expect(
      catalog.prunable(before: "000000010000000000000009", archivedBefore: Date(timeIntervalSince1970: 2000)) == [
        "000000010000000000000007", "000000010000000000000008.00000028.backup", "000000010000000000000008.partial",
      ])
    #expect(
      catalog.prunable(before: "000000010000000000000009", archivedBefore: Date(timeIntervalSince1970: 500)) == [])
  }

  @Test("target times: ISO 8601 with a zone, or local wall-clock time; PostgreSQL gets UTC with a zone")
  func targetTimes() throws {
    let utc = try #require(TargetTime.parse("2026-11-27T14:03:00Z"))
    #expect(TargetTime.parse("2026-11-27T15:03:00+01:00") == utc)
    #expect(TargetTime.parse("2026-11-27T14:03:00.000Z") == utc)
    #expect(TargetTime.postgres(utc) == "2026-11-27 14:03:00.000000+00")
    let local = try #require(TargetTime.parse("2026-11-27 14:03"))
    #expect(local.timeIntervalSince(utc) == -Double(TimeZone.current.secondsFromGMT(for: local)))
    #expect(TargetTime.parse("yesterday") == nil)
    #expect(TargetTime.parse("2026-13-27 14:03") == nil)
  }

  @Test("estimates scale the site's last measured restore; without one they say what they assume")
  func estimates() {
    var estimates = RestoreEstimates()
    let assumed = estimates.logical(dumpBytes: 400_000_000)
    #expect(assumed.seconds == 10)
    #expect(assumed.basis.contains("assumed"))
    estimates.restoreTest = RestoreVerification(
      passed: true, dump: "d", dumpBytes: 100_000_000, database: "t", startedAt: "2026-11-22T04:00:00Z", finishedAt: "",
      checksumMatches: true, tablesChecked: 7, rowsChecked: 1, differences: [], amcheckClean: true, amcheckOutput: nil,
      stagingIntact: true, timingsMs: ["restore": 20_000, "counts": 1_000, "amcheck": 9_000], problems: [])
    let measured = estimates.logical(dumpBytes: 200_000_000)
    #expect(measured.seconds == 60)
    #expect(measured.basis.contains("2026-11-22"))
    estimates.pitr = PITRTiming(
      base: "b", baseBytes: 1_000, extractMs: 10_000, walBytes: 32 << 20, recoveryMs: 4_000, targetTime: nil,
      recoveredTo: nil,
      timeline: 2, finishedAt: "2026-11-20T10:00:00Z")
    let pitr = estimates.pointInTime(baseBytes: 2_000, walBytes: 64 << 20, decompressRate: nil)
    #expect(pitr.seconds == 20 + 8 + 9)
  }
}
