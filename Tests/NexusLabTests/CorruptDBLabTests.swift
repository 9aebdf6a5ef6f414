import Foundation
import NexusBackup
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// `nexus-dr corrupt-db` against real corruption in the lab's PostgreSQL.
  @Suite("corrupt-db (lab)", .serialized)
  struct CorruptDBLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let repository: String

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-corrupt")
      repository = Lab.repository
    }

    var common: [String] {
      [
        "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }

    func answers() throws -> String {
      try state.write(
        "answers.yaml", "choose.choose-restore-point: dump\nconfirm.stop-services: yes\nmanual.confirm-resync: done\n")
    }

    func asides(_ connection: PGConnection) async throws -> [String] {
      try await connection.query("SELECT datname FROM pg_database WHERE datname LIKE 'nexus\\_corrupt\\_%' ORDER BY 1")
        .rows.compactMap { $0["datname"] }
    }

    /// Drops the copies set aside by earlier tests — only while a healthy `nexus` exists;
    /// without one, the newest copy is renamed back instead, so no test ever loses the data.
    func dropAsides() async throws {
      try await PGConnection.with(conninfo: try lab.conninfo(database: "postgres")) { postgres in
        let present =
          try await postgres.query("SELECT count(*) AS n FROM pg_database WHERE datname = 'nexus'").first?.decode(
            Int.self, "n") ?? 0
        var copies = try await asides(postgres)
        if present == 0, let newest = copies.popLast() {
          try await postgres.query("ALTER DATABASE \(identifier: newest) RENAME TO nexus")
          try await postgres.query("ALTER DATABASE nexus ALLOW_CONNECTIONS true")
        }
        for name in copies { try await postgres.query("DROP DATABASE \(identifier: name) WITH (FORCE)") }
      }
      try await lab.withSSH("server") { server in
        _ = try await server.run(.argv(["systemctl", "start", "nexus-api", "nexus-sync"], timeout: .seconds(60)))
      }
    }

    /// The restored database counted against the newest manifest, and pg_amcheck run on the server.
    func checkRestored(_ server: SSHTransport) async throws {
      let nas = try lab.value("NAS_MOUNT")
      let newest = try #require(
        try FileManager.default.contentsOfDirectory(atPath: "\(nas)/daily").filter { $0.hasSuffix(".manifest.json") }
          .sorted().last)
      let manifest = try DumpManifest.decode(Data(contentsOf: URL(fileURLWithPath: "\(nas)/daily/\(newest)")))
      try await PGConnection.with(conninfo: try lab.conninfo()) { nexus in
        for (table, count) in manifest.tables {
          let parts = table.split(separator: ".").map(String.init)
          let found = try await nexus.query("SELECT count(*) AS n FROM \(identifier: parts[0]).\(identifier: parts[1])")
            .first?.decode(Int64.self, "n")
          // The iPad's pushes arrive again once services are back, so only the inbox may have grown.
          if table == "staging.sync_inbox" {
            #expect((found ?? 0) >= count)
          } else {
            #expect(found == count, "\(table)")
          }
        }
      }
      let amcheck = try await server.run(
        .shell(
          "cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_amcheck --heapallindexed -d nexus",
          timeout: .seconds(600)))
      #expect(amcheck.succeeded, "pg_amcheck: \(amcheck.stdoutText)\(amcheck.stderrText)")
    }

    @Test("real corruption (bytes overwritten in a heap file) is restored; the damaged database is kept aside")
    func realCorruption() async throws {
      try await dropAsides()
      let nightly = try await CLIProcess.run(["routine", "nightly"] + common)
      #expect(nightly.status == 0, "\(nightly.output)")
      try await lab.withSSH("server") { server in
        let path = try await server.runChecked(
          .shell(
            "cd / && runuser -u postgres -- psql -X -At -d nexus -c \"SELECT current_setting('data_directory') || '/' || pg_relation_filepath('clinical_records')\""
          )
        ).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await server.runChecked(.argv(["systemctl", "stop", "postgresql"], timeout: .seconds(120)))
        _ = try await server.runChecked(
          .argv(["dd", "if=/dev/urandom", "of=\(path)", "bs=8192", "seek=1", "count=4", "conv=notrunc"]))
        _ = try await server.runChecked(.argv(["systemctl", "start", "postgresql"], timeout: .seconds(120)))
        try await PGConnection.with(conninfo: try lab.conninfo()) { broken in
          do throws(PGError) {
            // sum(length(body)) reads every heap page (a count(*) could use an index-only scan).
            try await broken.query("SELECT sum(length(body)) FROM clinical_records")
            Issue.record("the corruption was not noticed")
          } catch {
            #expect(error.sqlState == "XX001", "\(error)")
          }
        }

        let run = try await CLIProcess.run(["corrupt-db", "--answers", try answers()] + common)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("sync resumed"))
        try await checkRestored(server)
        try await PGConnection.with(conninfo: try lab.conninfo(database: "postgres")) { postgres async throws in
          #expect(try await asides(postgres).count == 1, "the damaged database is kept aside")
        }
      }
      try await dropAsides()
    }

    @Test("kill -9 of nexus-dr during pg_restore, then resume: the restore completes correctly")
    func killDuringRestore() async throws {
      try await dropAsides()
      let nightly = try await CLIProcess.run(["routine", "nightly"] + common)
      #expect(nightly.status == 0, "\(nightly.output)")
      try await lab.withSSH("server") { server in
        let process = try CLIProcess(["corrupt-db", "--answers", try answers()] + common)
        let restoring = try await eventually(within: .seconds(120)) {
          try await server.run(.argv(["pgrep", "-f", "pg_restore --exit-on-error"])).succeeded
        }
        #expect(restoring, "\(process.output)")
        process.signal(SIGKILL)
        #expect(await process.wait() == 128 + SIGKILL)
        let resumed = try await CLIProcess.run(["resume", "--answers", try answers()] + common)
        #expect(resumed.status == 0, "\(resumed.output)")
        try await checkRestored(server)
      }
      try await dropAsides()
    }

    /// ipad-1's acknowledged records: (seq, acknowledged at), from its acked.log.
    func acknowledged() throws -> [(seq: Int64, at: Date)] {
      let text = try String(contentsOfFile: try lab.value("ACKED_LOG"), encoding: .utf8)
      return text.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: "\t")
        guard fields.count == 2, let seq = Int64(fields[0]), let at = JournalTime.parse(String(fields[1])) else {
          return nil
        }
        return (seq, at)
      }
    }

    /// A nightly (for the preflight's dump) and a base backup for point-in-time recovery.
    func backups() async throws {
      let nightly = try await CLIProcess.run(["routine", "nightly"] + common)
      #expect(nightly.status == 0, "\(nightly.output)")
      let weekly = try await CLIProcess.run(["routine", "weekly"] + common)
      #expect(weekly.status == 0, "\(weekly.output)")
    }

    /// Removes the damaged data directories point-in-time recovery kept aside (the test made them).
    func removeDataAsides(_ server: SSHTransport) async throws -> [String] {
      let listed = try await server.run(.shell("ls -1d /var/lib/postgresql/15/main.corrupt-* 2>/dev/null")).stdoutText
      let asides = listed.split(separator: "\n").map(String.init)
      if !asides.isEmpty {
        _ = try await server.runChecked(.argv(["rm", "-rf", "--"] + asides, timeout: .seconds(300)))
      }
      return asides
    }

    @Test(
      "point in time without loss: a table dropped at T, recovery to T; every record ipad-1 had acknowledged before T is there"
    )
    func pointInTimeWithoutLoss() async throws {
      try await dropAsides()
      try await lab.withSSH("server") { server in
        _ = try await removeDataAsides(server)
        // Earlier tests restored older restore points on purpose; this one answers for what is acknowledged from now on.
        let firstSeq = (try acknowledged().last?.seq ?? 0) + 1
        try await backups()
        let before = try acknowledged().count
        #expect(
          try await eventually(within: .seconds(60)) { try acknowledged().count >= before + 10 },
          "ipad-1 keeps pushing after the base backup")

        let target = Date()
        let appointments = try await PGConnection.with(conninfo: try lab.conninfo()) { nexus in
          let appointments = try await nexus.query("SELECT count(*) AS n FROM public.appointments").first?.decode(
            Int64.self, "n")
          try await nexus.query("DROP TABLE public.appointments CASCADE")
          return appointments
        }
        // Records acknowledged after T are the window this recovery gives up, on purpose.
        #expect(
          try await eventually(within: .seconds(60)) {
            try acknowledged().contains { $0.at > target.addingTimeInterval(1) }
          })
        let mustSurvive = try acknowledged().filter { $0.seq >= firstSeq && $0.at < target }.map(\.seq)
        #expect(mustSurvive.count >= 10)

        let answers = try state.write(
          "pitr-answers.yaml",
          """
          choose.choose-restore-point: pitr-target
          confirm.stop-services: yes
          confirm.pitr: yes
          manual.confirm-resync: done

          """)
        let run = try await CLIProcess.run(
          ["corrupt-db", "--target-time", JournalTime.format(target), "--answers", answers] + common)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("pitr-target — point in time, to"), "the options are shown with their windows")
        #expect(run.output.contains("sync resumed"))

        try await PGConnection.with(conninfo: try lab.conninfo()) { restored in
          #expect(
            try await restored.query("SELECT count(*) AS n FROM public.appointments").first?.decode(Int64.self, "n")
              == appointments)
          let present = Set(
            try await restored.query("SELECT seq FROM staging.sync_inbox WHERE device = 'ipad-1'").rows.compactMap {
              try? $0.decode(Int64.self, "seq")
            })
          let lost = mustSurvive.filter { !present.contains($0) }
          #expect(lost.isEmpty, "acknowledged before T but missing: \(lost.prefix(20))")
          let timeline = try await restored.query("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS t")
            .first?["t"]
          #expect(
            timeline.flatMap { Int($0, radix: 16) }.map { $0 >= 2 } == true, "a new timeline: \(timeline ?? "none")")
          #expect(try await restored.query("SELECT pg_is_in_recovery() AS r").first?.decode(Bool.self, "r") == false)
        }

        let runID = try #require(run.output.firstMatch(of: #/Run (\S+) completed/#).map { String($0.output.1) })
        let report = try String(contentsOfFile: "\(state.path)/runs/\(runID)/report.json", encoding: .utf8)
        #expect(report.contains("everything committed after"), "the report carries the data-loss window")
        let asides = try await removeDataAsides(server)
        #expect(asides.count == 1, "the damaged data directory was kept aside: \(asides)")
      }
    }

    @Test(
      "kill -9 right after point-in-time recovery, before it was journaled; resume does not recover a second time",
      arguments: ["after-start", "after-command"])
    func killAroundRecovery(phase: String) async throws {
      try await dropAsides()
      try await lab.withSSH("server") { server in
        _ = try await removeDataAsides(server)
        try await backups()
        let answers = try state.write(
          "pitr-latest-answers.yaml",
          """
          choose.choose-restore-point: pitr-latest
          confirm.stop-services: yes
          confirm.pitr: yes
          manual.confirm-resync: done

          """)
        let crashed = try await CLIProcess.run(
          ["corrupt-db", "--answers", answers] + common, environment: ["NEXUS_DR_CRASH_AT": "pitr:\(phase)"])
        #expect(crashed.status == 128 + SIGKILL, "\(crashed.output)")
        let timeline = { () async throws -> String? in
          try await PGConnection.with(conninfo: try lab.conninfo()) { connection in
            try await connection.query("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS t").first?["t"]
          }
        }
        let before = phase == "after-command" ? try await timeline() : nil
        let resumed = try await CLIProcess.run(["resume", "--answers", answers] + common)
        #expect(resumed.status == 0, "\(resumed.output)")
        let after = try await timeline()
        if phase == "after-command" {
          #expect(after == before, "the recovery done before the crash is kept, not done again")
          #expect(resumed.output.contains("already recovered"), "\(resumed.output)")
        }
        #expect(after.flatMap { Int($0, radix: 16) }.map { $0 >= 2 } == true)
        #expect(resumed.output.contains("sync resumed"))
        let asides = try await removeDataAsides(server)
        #expect(asides.count == 1, "one damaged copy kept aside, not two: \(asides)")
      }
    }

    @Test(
      "an attempt killed after extraction, then a new run with another choice: the attempt is redone with it, the damaged original kept once"
    )
    func anotherChoiceAfterCrash() async throws {
      try await dropAsides()
      try await lab.withSSH("server") { server in
        _ = try await removeDataAsides(server)
        try await backups()
        #expect(
          try await eventually(within: .seconds(60)) {
            try acknowledged().contains { $0.at > Date().addingTimeInterval(-0.5) }
          })
        let target = Date()
        let first = try state.write(
          "first-answers.yaml",
          "choose.choose-restore-point: pitr-target\nconfirm.stop-services: yes\nconfirm.pitr: yes\nmanual.confirm-resync: done\n"
        )
        let crashed = try await CLIProcess.run(
          ["corrupt-db", "--target-time", JournalTime.format(target), "--answers", first] + common,
          environment: ["NEXUS_DR_CRASH_AT": "pitr:after-extract"])
        #expect(crashed.status == 128 + SIGKILL, "\(crashed.output)")
        let second = try state.write(
          "second-answers.yaml",
          "choose.choose-restore-point: pitr-latest\nconfirm.stop-services: yes\nconfirm.pitr: yes\nmanual.confirm-resync: done\n"
        )
        let run = try await CLIProcess.run(["corrupt-db", "--answers", second] + common)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("not offered — a dump: PostgreSQL does not accept connections"), "\(run.output)")
        #expect(run.output.contains("holds an earlier recovery attempt"), "\(run.output)")
        #expect(
          run.output.contains("WAL file(s) from the damaged copy's pg_wal added"),
          "the damaged copy is still found through the marker")
        let asides = try await removeDataAsides(server)
        #expect(asides.count == 1, "the damaged original, once: \(asides)")
      }
    }

    @Test("a dump changed after its manifest is not offered: the one before it is, and nothing is touched")
    func changedDumpNotOffered() async throws {
      try await dropAsides()
      let older = try await CLIProcess.run(["routine", "nightly", "--input", "date=20000101"] + common)
      #expect(older.status == 0, "\(older.output)")
      try await backups()
      let daily = "\(try lab.value("NAS_MOUNT"))/daily"
      let dumps = try FileManager.default.contentsOfDirectory(atPath: daily).filter { $0.hasSuffix(".dump") }.sorted()
      let newest = try #require(dumps.last)
      let before = try #require(dumps.dropLast().last, "at least the 20000101 dump comes before today's")
      // Flip one byte in the middle of the newest dump, and put it back afterwards.
      let handle = try #require(FileHandle(forUpdatingAtPath: "\(daily)/\(newest)"))
      let size = try handle.seekToEnd()
      try handle.seek(toOffset: size / 2)
      let original = try #require(try handle.read(upToCount: 1))
      try handle.seek(toOffset: size / 2)
      try handle.write(contentsOf: Data([original[0] ^ 0xFF]))
      try handle.close()
      defer {
        if let restore = FileHandle(forUpdatingAtPath: "\(daily)/\(newest)") {
          try? restore.seek(toOffset: size / 2)
          try? restore.write(contentsOf: original)
          try? restore.close()
        }
        try? FileManager.default.removeItem(atPath: "\(daily)/nexus_20000101.dump")
        try? FileManager.default.removeItem(atPath: "\(daily)/nexus_20000101.manifest.json")
      }
      // An answer that is no option: the step shows what it offers, then stops (exit 4) before anything changes.
      let answers = try state.write("show-answers.yaml", "choose.choose-restore-point: show-me\n")
      let run = try await CLIProcess.run(["corrupt-db", "--answers", answers] + common)
      #expect(run.status == 4, "\(run.output)")
      #expect(run.output.contains("dump \(newest): its sha256 does not match its manifest"), "\(run.output)")
      #expect(run.output.contains("dump — older dump \(before)"), "\(run.output)")
      try await lab.withSSH("server") { server async throws in
        #expect(
          try await server.run(.argv(["systemctl", "is-active", "nexus-api", "nexus-sync"])).succeeded,
          "nothing was stopped")
      }
    }

    @Test("a NAS without room for the WAL a logical restore writes: the choice says so before anything changes")
    func walRoomNote() async throws {
      try await dropAsides()
      try await backups()
      try await lab.command(["nas-fill", "220M"])
      let answers = try state.write("show-answers.yaml", "choose.choose-restore-point: show-me\n")
      let run = try await CLIProcess.run(["corrupt-db", "--answers", answers] + common)
      try await lab.command(["nas-unfill"])
      #expect(run.status == 4, "\(run.output)")
      #expect(run.output.contains("note — a logical restore archives about"), "\(run.output)")
    }

    @Test(
      "a missing WAL segment: point in time to the end is offered only up to the gap, and a target beyond it not at all"
    )
    func walGap() async throws {
      try await dropAsides()
      try await lab.withSSH("server") { server in
        try await backups()
        // Three segments switched and archived past the base backup, then one of them taken away (and put back).
        try await PGConnection.with(conninfo: try lab.conninfo()) { nexus in
          var switched = ""
          for _ in 0..<3 {
            try await nexus.query("SELECT pg_current_xact_id()")
            switched = try #require(try await nexus.query("SELECT pg_walfile_name(pg_switch_wal()) AS s").first?["s"])
          }
          #expect(
            try await eventually(within: .seconds(60)) {
              (try await nexus.query("SELECT coalesce(last_archived_wal, '') AS w FROM pg_stat_archiver").first?["w"]
                ?? "") >= switched
            })
        }
        let wal = "\(try lab.value("NAS_MOUNT"))/wal"
        let segments = try FileManager.default.contentsOfDirectory(atPath: wal).filter { WALChain.number($0) != nil }
          .sorted()
        let missing = segments[segments.count - 2]
        try FileManager.default.moveItem(atPath: "\(wal)/\(missing)", toPath: "\(state.path)/\(missing)")
        defer { try? FileManager.default.moveItem(atPath: "\(state.path)/\(missing)", toPath: "\(wal)/\(missing)") }

        let answers = try state.write("gap-answers.yaml", "choose.choose-restore-point: pitr-target\n")
        let run = try await CLIProcess.run(
          ["corrupt-db", "--target-time", JournalTime.format(Date()), "--answers", answers] + common)
        #expect(run.status == 4, "pitr-target is not offered, so the answer does not fit: \(run.output)")
        #expect(run.output.contains("not offered — point-in-time to"), "\(run.output)")
        #expect(run.output.contains("segment \(missing) is missing"), "\(run.output)")
        #expect(run.output.contains("pitr-latest"), "point in time up to the gap is still offered, with its window")
        #expect(run.output.contains("cannot be replayed"), "\(run.output)")
        // Nothing was touched: the services still run and nexus answers.
        #expect(try await server.run(.argv(["systemctl", "is-active", "nexus-sync"])).succeeded)
      }
    }
  }
}
