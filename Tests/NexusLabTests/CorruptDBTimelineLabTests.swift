import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

/// Point-in-time recovery after an earlier one: the archive holds several timelines.
extension LabSuites.CorruptDBLabTests {
  /// The database's clock `offset` from now, as a target time nexus-dr takes (UTC, milliseconds).
  func databaseTime(_ connection: PGConnection, plusMilliseconds offset: Int = 0) async throws -> String {
    try #require(
      try await connection.query(
        "SELECT to_char((clock_timestamp() + \(unsafeSQL: String(offset)) * interval '1 ms') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS t"
      ).first?["t"])
  }

  /// Waits (on the database's clock, not by sleeping) until `time` has passed by a few milliseconds.
  func passes(_ time: String, _ connection: PGConnection) async throws -> Bool {
    try await eventually(within: .seconds(10)) {
      try await connection.query("SELECT 1 AS n WHERE clock_timestamp() > \(time)::timestamptz + interval '5 ms'").count
        == 1
    }
  }

  func currentTimeline(_ connection: PGConnection) async throws -> Int {
    let name = try #require(try await connection.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS s").first?["s"])
    return try #require(WALChain.timeline(name))
  }

  /// `count` WAL switches, each after a write, and until the last is archived.
  func switchWAL(_ connection: PGConnection, count: Int) async throws {
    var switched = ""
    for _ in 0..<count {
      try await connection.query("SELECT pg_current_xact_id()")
      switched = try #require(try await connection.query("SELECT pg_walfile_name(pg_switch_wal()) AS s").first?["s"])
    }
    #expect(
      try await eventually(within: .seconds(60)) {
        (try await connection.query("SELECT coalesce(last_archived_wal, '') AS w FROM pg_stat_archiver").first?["w"]
          ?? "") >= switched
      })
  }

  @Test(
    "two recoveries in a row: the second target lies on the first timeline after its branch point, and is recovered along it"
  )
  func secondRecoveryOnAbandonedBranch() async throws {
    try await dropAsides()
    try await lab.withSSH("server") { server in
      _ = try await removeDataAsides(server)
      try await backups()
      let (first, t1, t2) = try await PGConnection.with(conninfo: try lab.conninfo()) { nexus in
        let first = try await currentTimeline(nexus)
        try await nexus.query("DROP TABLE IF EXISTS public.lab_marks")
        try await nexus.query("CREATE TABLE public.lab_marks (label text PRIMARY KEY)")
        // 'a', then T1 (after a's commit), then 'b' (after T1), then T2 (after b's commit).
        try await nexus.query("INSERT INTO public.lab_marks VALUES ('a')")
        let t1 = try await databaseTime(nexus, plusMilliseconds: 2)
        #expect(try await passes(t1, nexus))
        try await nexus.query("INSERT INTO public.lab_marks VALUES ('b')")
        let t2 = try await databaseTime(nexus, plusMilliseconds: 2)
        #expect(try await passes(t2, nexus))
        try await nexus.query("INSERT INTO public.lab_marks VALUES ('c')")
        return (first, t1, t2)
      }
      let answers = try state.write(
        "timeline-answers.yaml",
        """
        choose.choose-restore-point: pitr-target
        confirm.stop-services: yes
        confirm.pitr: yes
        manual.confirm-resync: done

        """)

      // The first recovery, to T1: 'a' only, on a new timeline; the first one is abandoned after T1.
      let firstRun = try await CLIProcess.run(["corrupt-db", "--target-time", t1, "--answers", answers] + common)
      #expect(firstRun.status == 0, "\(firstRun.output)")
      let second = try await PGConnection.with(conninfo: try lab.conninfo()) { nexus in
        #expect(
          try await nexus.query("SELECT label FROM public.lab_marks ORDER BY 1").rows.compactMap { $0["label"] } == [
            "a"
          ])
        let second = try await currentTimeline(nexus)
        #expect(second > first)
        // Some WAL on the new timeline, so that its segments carry the numbers of the first one's.
        try await switchWAL(nexus, count: 3)
        return second
      }

      // The second recovery, to T2: production was on the first timeline then, and 'b' was
      // committed there after the branch point. 'latest' would follow the newer timeline and
      // silently lose 'b'.
      let secondRun = try await CLIProcess.run(["corrupt-db", "--target-time", t2, "--answers", answers] + common)
      #expect(secondRun.status == 0, "\(secondRun.output)")
      #expect(secondRun.output.contains("timeline \(first): production's then"), "\(secondRun.output)")
      #expect(
        secondRun.output.contains("pitr-timeline-\(first)") || secondRun.output.contains("pitr-timeline-\(second)"),
        "the archive forks after the base backup: the other branch is an option with its time range: \(secondRun.output)"
      )
      let third = try await PGConnection.with(conninfo: try lab.conninfo()) { nexus in
        #expect(
          try await nexus.query("SELECT label FROM public.lab_marks ORDER BY 1").rows.compactMap { $0["label"] } == [
            "a", "b",
          ])
        let third = try await currentTimeline(nexus)
        #expect(third > second, "a new timeline again: \(third)")

        // A segment removed from the newest timeline, whose number the abandoned timeline also has:
        // the chain stops there (no other timeline's segment fills it) and the option says so.
        try await switchWAL(nexus, count: 4)
        return third
      }
      let wal = "\(try lab.value("NAS_MOUNT"))/wal"
      let names = try FileManager.default.contentsOfDirectory(atPath: wal).filter { WALChain.number($0) != nil }
      let newest = names.filter { WALChain.timeline($0) == third }.sorted()
      let elsewhere = Set(names.filter { WALChain.timeline($0) != third }.compactMap(WALChain.number))
      let removed = try #require(
        newest.dropFirst().dropLast().first { WALChain.number($0).map(elsewhere.contains) == true },
        "a segment of timeline \(third) whose number another timeline has: \(newest)")
      try FileManager.default.moveItem(atPath: "\(wal)/\(removed)", toPath: "\(state.path)/\(removed)")
      defer { try? FileManager.default.moveItem(atPath: "\(state.path)/\(removed)", toPath: "\(wal)/\(removed)") }
      let gapAnswers = try state.write("timeline-gap-answers.yaml", "choose.choose-restore-point: pitr-target\n")
      let gap = try await CLIProcess.run(["corrupt-db", "--answers", gapAnswers] + common)
      #expect(gap.status == 4, "pitr-target is not offered, so the answer does not fit; nothing changes: \(gap.output)")
      #expect(gap.output.contains("WAL segment \(removed) is missing"), "\(gap.output)")
      #expect(gap.output.contains("cannot be replayed"), "\(gap.output)")
      #expect(try await server.run(.argv(["systemctl", "is-active", "nexus-sync"])).succeeded)

      try await PGConnection.with(conninfo: try lab.conninfo()) { nexus in
        try await nexus.query("DROP TABLE public.lab_marks")
      }
      let asides = try await removeDataAsides(server)
      #expect(asides.count == 2, "each recovery kept its damaged copy: \(asides)")
    }
  }
}
