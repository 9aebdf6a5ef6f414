import Foundation
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// The routine backups against the lab: real PostgreSQL, the real loop-mounted NAS.
  /// Serialized, and each test leaves the NAS mounted, unfilled and the fallback empty.
  @Suite("Routine backups (lab)", .serialized)
  struct RoutineLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let repository: String
    let nas: String
    let local = LocalTransport()

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-routine")
      repository = Lab.repository
      nas = try lab.value("NAS_MOUNT")
    }

    var common: [String] {
      [
        "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }

    func nexusDR(_ arguments: [String]) async throws -> (status: Int32, output: String) {
      try await CLIProcess.run(arguments + common)
    }

    func files(_ directory: String) -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
        !$0.hasPrefix(".") || $0.hasSuffix(".partial")
      }.sorted()
    }

    /// Empties daily/ on the NAS and the fallback on the server, so counts are exact.
    func clearBackups() async throws {
      try await lab.withSSH("server") { server in
        _ = try await server.runChecked(
          .shell(
            "rm -rf /mnt/nas/nexus-backup/daily/* /mnt/nas/nexus-backup/daily/.n* /var/backups/nexus-fallback/daily /var/backups/nexus-fallback/clarity /var/backups/nexus-fallback/attachments"
          ))
      }
    }

    @Test(
      "nightly leaves DESIGN.md's NAS layout, and the manifest's counts are the dump's own (restored and counted while ipad-1 writes)"
    )
    func nightlyExactManifest() async throws {
      try await clearBackups()
      let acked = try lab.value("ACKED_LOG")
      let before = (try? String(contentsOfFile: acked, encoding: .utf8))?.split(separator: "\n").count ?? 0
      let run = try await nexusDR(["routine", "nightly", "--input", "date=20261115"])
      #expect(run.status == 0, "\(run.output)")
      for directory in ["daily", "base", "wal", "config", "attachments", "clarity", "restore-test"] {
        #expect(FileManager.default.fileExists(atPath: "\(nas)/\(directory)"), "missing \(directory)/ on the NAS")
      }
      #expect(
        files("\(nas)/daily") == ["nexus_20261115.dump", "nexus_20261115.globals.sql", "nexus_20261115.manifest.json"])
      #expect(files("\(nas)/clarity").contains("clarity_20261115.dump"))
      // The gate's configuration is snapshotted every night too (the gateway-failure runbook needs it).
      #expect(
        run.output.contains("new snapshot") || run.output.contains("unchanged since"),
        "the nightly took a config snapshot: \(run.output.suffix(800))")
      let snapshots = files("\(nas)/config").filter { $0.hasPrefix("2") }
      let newest = try #require(snapshots.last, "no config snapshot on the NAS")
      #expect(FileManager.default.fileExists(atPath: "\(nas)/config/\(newest)/gate/etc/wireguard/wg0.conf"))
      let manifest = try DumpManifest.decode(
        Data(contentsOf: URL(fileURLWithPath: "\(nas)/daily/nexus_20261115.manifest.json")))
      let size = try FileManager.default.attributesOfItem(atPath: "\(nas)/daily/nexus_20261115.dump")[.size] as? Int64
      #expect(manifest.sizeBytes == size)
      #expect(manifest.tables.count >= 7)
      #expect(manifest.verifiedWith == "pg_restore --list")
      // The roles beside the dump, 0600, checksummed in the manifest, without password hashes.
      let globals = try #require(manifest.globals)
      let globalsPath = "\(nas)/daily/\(globals.file)"
      let globalsText = try String(contentsOfFile: globalsPath, encoding: .utf8)
      #expect(globalsText.contains("CREATE ROLE nexus_app;"))
      #expect(!globalsText.contains("SCRAM-SHA-256$") && !globals.passwords, "no password hash unless the site opts in")
      #expect((try FileManager.default.attributesOfItem(atPath: globalsPath)[.posixPermissions] as? Int) == 0o600)
      #expect(globals.sizeBytes == Int64(globalsText.utf8.count))
      #expect(try await local.runChecked(.argv(["sha256sum", globalsPath])).stdoutText.hasPrefix(globals.sha256 + " "))
      // ipad-1 kept writing meanwhile.
      let after = (try? String(contentsOfFile: acked, encoding: .utf8))?.split(separator: "\n").count ?? 0
      #expect(after > before, "ipad-1 did not push during the nightly")

      // Restore the dump into a scratch database and count every table.
      try await lab.withSSH("server") { server in
        let scratch = "verify_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await server.runChecked(.argv(["runuser", "-u", "postgres", "--", "createdb", scratch]))
        _ = try await server.runChecked(
          .shell(
            "runuser -u postgres -- pg_restore --no-owner --dbname=\(scratch) < /mnt/nas/nexus-backup/daily/nexus_20261115.dump",
            timeout: .seconds(300)))
        try await PGConnection.with(conninfo: try lab.conninfo(database: scratch)) { restored in
          try await PGConnection.with(conninfo: try lab.conninfo()) { live in
            for (table, count) in manifest.tables {
              let parts = table.split(separator: ".").map(String.init)
              let query: PGQuery = "SELECT count(*) AS n FROM \(identifier: parts[0]).\(identifier: parts[1])"
              let restoredCount = try await restored.query(query).first?.decode(Int64.self, "n")
              #expect(restoredCount == count, "\(table): manifest \(count), restored \(restoredCount ?? -1)")
            }
            let inbox = try #require(manifest.tables["staging.sync_inbox"])
            let liveInbox =
              try await live.query("SELECT count(*) AS n FROM staging.sync_inbox").first?.decode(Int64.self, "n") ?? 0
            #expect(
              liveInbox > inbox, "the live table moved on (\(liveInbox)) while the dump kept its snapshot (\(inbox))")
          }
        }
        _ = try await server.run(.argv(["runuser", "-u", "postgres", "--", "dropdb", scratch]))
      }
    }

    @Test(
      "a server hardened with statement_timeout and idle_in_transaction_session_timeout of 1 s still gets a valid nightly dump"
    )
    func nightlyUnderSiteTimeouts() async throws {
      try await clearBackups()
      let (nightly, countWaited, idleWaited, status) = try await PGConnection.with(conninfo: try lab.conninfo()) {
        postgres in
        // Two tables only this test uses, each held by its own transaction: a counted one (the
        // exporting session's count(*) waits on it for longer than statement_timeout) and a
        // partitioned one, which nothing counts but pg_dump locks: the exporting session then sits
        // idle in its transaction, longer than idle_in_transaction_session_timeout, while pg_dump waits.
        try await postgres.query("CREATE TABLE public.lab_hold_counted (id int)")
        try await postgres.query("CREATE TABLE public.lab_hold_dumped (id int) PARTITION BY RANGE (id)")
        try await postgres.query("ALTER SYSTEM SET statement_timeout = '1s'")
        try await postgres.query("ALTER SYSTEM SET idle_in_transaction_session_timeout = '1s'")
        try await postgres.query("SELECT pg_reload_conf()")
        let outcome = try await PGConnection.with(conninfo: try lab.conninfo()) { counted in
          try await PGConnection.with(conninfo: try lab.conninfo()) { dumped in
            for (holder, table) in [(counted, "lab_hold_counted"), (dumped, "lab_hold_dumped")] {
              try await holder.query("SET idle_in_transaction_session_timeout = 0")
              try await holder.query("BEGIN")
              try await holder.query("LOCK TABLE public.\(unsafeSQL: table) IN ACCESS EXCLUSIVE MODE")
            }
            let nightly = try CLIProcess(["routine", "nightly", "--input", "date=20261116"] + common)
            let exporter = "application_name = 'nexus-dr' AND usename = 'nexus_backup'"
            // Observed, not slept: the count waits past 1 s, then (the first lock released) the
            // exporting session is idle in its transaction past 1 s.
            let countWaited = try await eventually(within: .seconds(30)) {
              try await postgres.query(
                "SELECT 1 AS n FROM pg_stat_activity WHERE \(unsafeSQL: exporter) AND wait_event_type = 'Lock' AND clock_timestamp() - query_start > interval '1.5 s'"
              ).count == 1
            }
            try await counted.query("ROLLBACK")
            let idleWaited = try await eventually(within: .seconds(30)) {
              try await postgres.query(
                "SELECT 1 AS n FROM pg_stat_activity WHERE \(unsafeSQL: exporter) AND state = 'idle in transaction' AND clock_timestamp() - state_change > interval '1.5 s'"
              ).count == 1
            }
            try await dumped.query("ROLLBACK")
            let status = await nightly.wait()
            return (nightly, countWaited, idleWaited, status)
          }
        }
        try await postgres.query("ALTER SYSTEM RESET statement_timeout")
        try await postgres.query("ALTER SYSTEM RESET idle_in_transaction_session_timeout")
        try await postgres.query("SELECT pg_reload_conf()")
        try await postgres.query("DROP TABLE public.lab_hold_counted, public.lab_hold_dumped")
        return outcome
      }
      #expect(countWaited, "the snapshot's count never waited past statement_timeout: \(nightly.output.suffix(600))")
      #expect(
        idleWaited,
        "the exporting session was not left idle past idle_in_transaction_session_timeout: \(nightly.output.suffix(600))"
      )
      #expect(status == 0, "\(nightly.output.suffix(1200))")
      #expect(
        files("\(nas)/daily") == ["nexus_20261116.dump", "nexus_20261116.globals.sql", "nexus_20261116.manifest.json"])
      let manifest = try DumpManifest.decode(
        Data(contentsOf: URL(fileURLWithPath: "\(nas)/daily/nexus_20261116.manifest.json")))
      #expect(manifest.tables["public.lab_hold_counted"] == 0)
      try await clearBackups()
    }

    @Test(
      "rotation over ten nights keeps exactly seven, the newest included; a failing night (NAS full) deletes nothing")
    func rotation() async throws {
      try await clearBackups()
      for day in 1...10 {
        let run = try await nexusDR(["routine", "nightly", "--input", String(format: "date=202611%02d", day)])
        #expect(run.status == 0, "night \(day): \(run.output)")
      }
      let kept = (4...10).map { String(format: "nexus_202611%02d", $0) }
      #expect(files("\(nas)/daily") == kept.flatMap { ["\($0).dump", "\($0).globals.sql", "\($0).manifest.json"] })

      // Below min_free the NAS is not used: the night goes to the fallback, nothing is deleted on the NAS.
      try await lab.command(["nas-fill", "64K"])
      let fallback = try await nexusDR(["routine", "nightly", "--input", "date=20261111"])
      #expect(fallback.status == 0, "\(fallback.output)")
      #expect(fallback.output.contains("less than min_free"))
      #expect(files("\(nas)/daily") == kept.flatMap { ["\($0).dump", "\($0).globals.sql", "\($0).manifest.json"] })

      // The NAS fills up during the dump (min_free set below what is left): the dump fails cleanly.
      let inventory = try String(contentsOfFile: lab.inventoryPath, encoding: .utf8).replacingOccurrences(
        of: "min_free: 200MiB", with: "min_free: 1KiB")
      let tight = try state.write("inventory-tight.yaml", inventory)
      let failing = try await CLIProcess.run([
        "routine", "nightly", "--input", "date=20261112", "--inventory", tight, "--env", "lab", "--state-dir",
        state.path, "--runbooks", "\(repository)/runbooks",
      ])
      let health = try await CLIProcess.run(["health", "--inventory", tight, "--env", "lab", "--state-dir", state.path])
      let afterFailure = files("\(nas)/daily")
      try await lab.command(["nas-unfill"])
      try await clearBackups()
      #expect(
        afterFailure == kept.flatMap { ["\($0).dump", "\($0).globals.sql", "\($0).manifest.json"] },
        "nothing deleted, no partial file left: \(afterFailure)")
      #expect(failing.status == 1, "the nightly must fail when the NAS fills: \(failing.output)")
      #expect(failing.output.contains("partial file was removed"))
      #expect(health.status == 2, "\(health.output)")
      #expect(
        health.output.contains("nightly_run") && health.output.contains("No space left on device"),
        "health says why: \(health.output)")
    }

    @Test("with the NAS unmounted the nightly writes to the fallback and health is CRITICAL")
    func nasDown() async throws {
      try await clearBackups()
      try await lab.command(["nas-down"])
      let run = try await nexusDR(["routine", "nightly", "--input", "date=20261116"])
      let health = try await nexusDR(["health"])
      try await lab.withSSH("server") { server in
        let fallback = try await server.run(.argv(["ls", "/var/backups/nexus-fallback/daily"])).stdoutText
        try await lab.command(["nas-up"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("NAS NOT USABLE"))
        #expect(fallback.contains("nexus_20261116.dump"))
        #expect(!files("\(nas)/daily").contains("nexus_20261116.dump"))
        #expect(health.status == 2, "\(health.output)")
        #expect(health.output.contains("FALLBACK IN USE"))
        #expect(health.output.contains("NOT MOUNTED"))
        try await clearBackups()
      }
    }

    @Test("wal push: an identical duplicate is success; different content fails and keeps the original")
    func walPushDuplicates() async throws {
      try await lab.withSSH("server") { server in
        let name = "00000009000000000000\(String(format: "%04X", Int.random(in: 0...0xFFFF)))"
        let script =
          "cd /tmp && printf first > seg-a && printf second > seg-b && chown postgres seg-a seg-b && "
          + "runuser -u postgres -- /usr/local/sbin/nexus-dr wal push --env lab /tmp/seg-a \(name); echo first=$?; "
          + "runuser -u postgres -- /usr/local/sbin/nexus-dr wal push --env lab /tmp/seg-a \(name); echo again=$?; "
          + "runuser -u postgres -- /usr/local/sbin/nexus-dr wal push --env lab /tmp/seg-b \(name); echo different=$?; "
          + "cat /mnt/nas/nexus-backup/wal/\(name); echo; rm -f /mnt/nas/nexus-backup/wal/\(name) seg-a seg-b"
        let result = try await server.runChecked(.shell(script))
        #expect(result.stdoutText.contains("first=0"))
        #expect(result.stdoutText.contains("again=0"))
        #expect(!result.stdoutText.contains("different=0"))
        #expect(result.stdoutText.hasSuffix("first\n"), "the original is kept: \(result.stdoutText)")
        #expect(result.stderrText.contains("different content"))
      }
    }

    @Test(
      "wal push: an identical segment already archived is fsync'd with its directory before 0; a new spool's parent is fsync'd"
    )
    func walPushDurableRetry() async throws {
      try await lab.withSSH("server") { server in
        let name = "00000009000000000001\(String(format: "%04X", Int.random(in: 0...0xFFFF)))"
        let wal = "/mnt/nas/nexus-backup/wal"
        let push = "runuser -u postgres -- /usr/local/sbin/nexus-dr wal push --env lab /tmp/seg-d \(name)"
        // The retry after a crash between rename and the directory's fsync: the copy is there.
        let retry = try await server.run(
          .shell(
            "cd /tmp && printf durable > seg-d && chown postgres seg-d && \(push) && "
              + "strace -f -y -qq -e trace=fsync -o /tmp/push.trace \(push); echo status=$?; cat /tmp/push.trace; "
              + "rm -f \(wal)/\(name) /tmp/push.trace"))
        #expect(retry.stdoutText.contains("status=0"), "\(retry.stdoutText)\(retry.stderrText)")
        #expect(
          retry.stdoutText.contains("<\(wal)/\(name)>) = 0"),
          "the archived copy is fsync'd: \(retry.stdoutText)")
        #expect(retry.stdoutText.contains("<\(wal)>) = 0"), "wal/ is fsync'd: \(retry.stdoutText)")
        // A spool directory that does not exist yet: created, and its parent fsync'd. The NAS
        // path of this inventory is not a mount point, so the segment spools.
        let scratch = "/tmp/spool-parent-\(Int.random(in: 1000...9999))"
        let spool = try await server.run(
          .shell(
            "install -d -o postgres \(scratch) \(scratch)/nas && "
              + "sed -e 's|path: /mnt/nas/nexus-backup|path: \(scratch)/nas|' -e 's|fallback: /var/backups/nexus-fallback|fallback: \(scratch)/fallback|' "
              + "/etc/nexus-dr/inventory.yaml > \(scratch)/inventory.yaml && chmod 644 \(scratch)/inventory.yaml && "
              + "install -d -o postgres \(scratch)/fallback && printf spooled > /tmp/seg-s && chown postgres /tmp/seg-s && cd /tmp && "
              + "strace -f -y -qq -e trace=fsync,mkdir -o /tmp/spool.trace runuser -u postgres -- /usr/local/sbin/nexus-dr wal push "
              + "--inventory \(scratch)/inventory.yaml --env lab /tmp/seg-s \(name); echo status=$?; "
              + "cat /tmp/spool.trace; ls \(scratch)/fallback/wal-spool; rm -rf \(scratch) /tmp/spool.trace /tmp/seg-s /tmp/seg-d"
          ))
        #expect(spool.stdoutText.contains("status=0"), "\(spool.stdoutText)\(spool.stderrText)")
        #expect(spool.stdoutText.contains("\(name)\n"), "spooled: \(spool.stdoutText)")
        #expect(
          spool.stdoutText.contains("<\(scratch)/fallback>) = 0"), "the spool's parent is fsync'd: \(spool.stdoutText)")
      }
    }

    @Test("wal fetch on the server: an archived segment 0, a missing one 1, the NAS gone 126")
    func walFetch() async throws {
      try await lab.withSSH("server") { server in
        try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
          try await postgres.query("SELECT pg_switch_wal()")
        }
        let archived = try await server.runChecked(
          .shell("ls /mnt/nas/nexus-backup/wal | grep -E '^[0-9A-F]{24}$' | sort | tail -n 1")
        ).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(archived.count == 24)
        let fetch = "cd /tmp && runuser -u postgres -- /usr/local/sbin/nexus-dr wal fetch --env lab"
        let found = try await server.run(
          .shell(
            "\(fetch) \(archived) /tmp/fetched-segment; echo status=$?; cmp /tmp/fetched-segment /mnt/nas/nexus-backup/wal/\(archived) && echo same; rm -f /tmp/fetched-segment"
          ))
        #expect(
          found.stdoutText.contains("status=0") && found.stdoutText.contains("same"),
          "\(found.stdoutText)\(found.stderrText)")
        let missing = try await server.run(
          .shell("\(fetch) 0000000100000000000000FF /tmp/fetched-segment; echo status=$?"))
        #expect(missing.stdoutText.contains("status=1"))
        try await lab.command(["nas-down"])
        let gone = try await server.run(.shell("\(fetch) \(archived) /tmp/fetched-segment; echo status=$?"))
        try await lab.command(["nas-up"])
        #expect(gone.stdoutText.contains("status=126"), "\(gone.stdoutText)")
        #expect(gone.stderrText.contains("stopping recovery"))
      }
    }

    @Test("plan --probe shows exactly which dumps rotation would remove")
    func planProbe() async throws {
      try await clearBackups()
      for day in 1...8 {
        #expect(
          try await nexusDR(["routine", "nightly", "--input", String(format: "date=202610%02d", day)]).status == 0)
      }
      let plan = try await nexusDR(["plan", "nightly", "--probe"])
      // Eight nights left seven dumps (02 to 08); with tonight's, the oldest of them goes.
      #expect(plan.output.contains("rotation removes: nexus_20261002.dump\n"), "\(plan.output)")
      #expect(files("\(nas)/daily").count == 21, "plan changed nothing")
      try await clearBackups()
    }

    @Test("WAL under pgbench load with the NAS down for two minutes: spooled, then flushed, no gap in the archive")
    func walSpoolUnderLoad() async throws {
      try await lab.withSSH("server") { server in
        _ = try await server.run(.argv(["runuser", "-u", "postgres", "--", "dropdb", "--if-exists", "bench"]))
        _ = try await server.runChecked(.argv(["runuser", "-u", "postgres", "--", "createdb", "bench"]))
        _ = try await server.runChecked(
          .argv(["runuser", "-u", "postgres", "--", "pgbench", "-q", "-i", "-s", "5", "bench"], timeout: .seconds(300)))
        try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
          try await postgres.query("SELECT pg_switch_wal()")
          let archivedBefore = try await WALArchiverStatus.read(try lab.environment().database!)
          try await lab.command(["nas-down"])
          _ = try await server.run(
            .argv(
              ["runuser", "-u", "postgres", "--", "pgbench", "-c", "2", "-T", "120", "-n", "bench"],
              timeout: .seconds(400)))
          try await postgres.query("SELECT pg_switch_wal()")
          let spooledDuring = try await eventually {
            try await server.run(.shell("ls /var/backups/nexus-fallback/wal-spool | wc -l")).stdoutText
              .trimmingCharacters(in: .whitespacesAndNewlines) != "0"
          }
          #expect(spooledDuring, "segments were spooled while the NAS was down")
          let spoolCount =
            Int(
              try await server.run(.shell("ls /var/backups/nexus-fallback/wal-spool | wc -l")).stdoutText
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
          try await lab.command(["nas-up"])
          try await postgres.query("CREATE TEMP TABLE bump AS SELECT 1")
          try await postgres.query("SELECT pg_switch_wal()")
          let flushed = try await eventually(within: .seconds(120)) {
            try await server.run(.shell("ls /var/backups/nexus-fallback/wal-spool | wc -l")).stdoutText
              .trimmingCharacters(in: .whitespacesAndNewlines) == "0"
          }
          #expect(flushed, "the spool was flushed once the NAS was back")
          let archivedAfter = try await WALArchiverStatus.read(try lab.environment().database!)
          #expect(archivedAfter.failedCount == archivedBefore.failedCount, "no archive failures")
          // Only the current timeline: an earlier point-in-time recovery leaves older ones behind.
          let timeline = String(
            try #require(try await postgres.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS s").first?["s"])
              .prefix(8))
          let names = files("\(nas)/wal").filter { $0.count == 24 && $0.hasPrefix(timeline) }
          let numbers = names.compactMap { UInt64($0.suffix(16), radix: 16) }.map { ($0 >> 32) * 0x100 + ($0 & 0xFF) }
          #expect(numbers.count >= spoolCount)
          let gaps = zip(numbers, numbers.dropFirst()).filter { $1 != $0 + 1 }
          #expect(gaps.isEmpty, "gaps in the archive: \(gaps.prefix(5))")
        }
        _ = try await server.run(.argv(["runuser", "-u", "postgres", "--", "dropdb", "--if-exists", "bench"]))
      }
    }

    @Test("weekly: the base backup passes pg_verifybackup, then the restore test")
    func baseBackup() async throws {
      #expect(try await nexusDR(["routine", "nightly", "--input", "date=20261115"]).status == 0)
      let run = try await nexusDR(["routine", "weekly", "--input", "date=20261115"])
      #expect(run.status == 0, "\(run.output)")
      #expect(run.output.contains("backup successfully verified"))
      #expect(FileManager.default.fileExists(atPath: "\(nas)/base/20261115/backup_manifest"))
      #expect(FileManager.default.fileExists(atPath: "\(nas)/base/20261115/base.tar.gz"))
    }

    @Test("a config snapshot holds no private key and no secret; an unchanged one adds nothing")
    func configSnapshot() async throws {
      let first = try await nexusDR(["run", "config-snapshot"])
      #expect(first.status == 0, "\(first.output)")
      let second = try await nexusDR(["run", "config-snapshot"])
      #expect(second.output.contains("unchanged"))
      let key = try await lab.withSSH("gate") { gate in
        try await gate.runChecked(.shell("sed -n 's/^PrivateKey *= *//p' /etc/wireguard/wg0.conf")).stdoutText
          .trimmingCharacters(in: .whitespacesAndNewlines)
      }
      #expect(key.count == 44)
      let secret = try await lab.withSSH("server") { server in
        try await server.runChecked(.shell("sed -n 's/^db_password *= *//p' /etc/nexus/nexus.conf")).stdoutText
          .trimmingCharacters(in: .whitespacesAndNewlines)
      }
      var checked = 0
      let enumerator = FileManager.default.enumerator(atPath: "\(nas)/config")
      while let file = enumerator?.nextObject() as? String {
        let path = "\(nas)/config/\(file)"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
          continue
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains(key), "\(file) holds the gate's private key")
        if !secret.isEmpty { #expect(!text.contains(secret), "\(file) holds the database password") }
        #expect(!file.hasSuffix(".key") && !file.contains("/secrets/"), "\(file) should have been excluded")
        checked += 1
      }
      #expect(checked > 5, "searched \(checked) files")
      // What a restore needs: settings that only look like secrets survive; the excluded files are named.
      let latest =
        try FileManager.default.contentsOfDirectory(atPath: "\(nas)/config").filter { $0.hasPrefix("2") }.sorted().last
        ?? ""
      let conf = try String(
        contentsOfFile: "\(nas)/config/\(latest)/server/etc/postgresql/15/main/postgresql.conf", encoding: .utf8)
      #expect(conf.contains("password_encryption = scram-sha-256"), "a non-secret setting is kept")
      let excluded = try String(contentsOfFile: "\(nas)/config/\(latest)/server/.nexus-dr-excluded", encoding: .utf8)
      #expect(excluded.split(separator: "\n").contains("/etc/nexus/secrets/pgpass"), "\(excluded)")
      #expect(excluded.split(separator: "\n").contains("/etc/nexus/tls/server.key"), "\(excluded)")
      let owners = try String(contentsOfFile: "\(nas)/config/\(latest)/server/.nexus-dr-owners", encoding: .utf8)
      #expect(
        owners.split(separator: "\n").contains("postgres postgres 640 /etc/postgresql/15/main/pg_hba.conf"), "\(owners)"
      )
    }

    @Test(
      "a config snapshot keeps no password from a unit's Environment=, a JSON file, a URL or an api_key, and no scratch copy"
    )
    func configSnapshotSecretShapes() async throws {
      let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
      let value = String((0..<28).map { _ in alphabet.randomElement()! })
      let dropIn = "/etc/systemd/system/nexus-api.service.d"
      let written: [(path: String, text: String)] = [
        (
          "\(dropIn)/override.conf",
          "[Service]\nEnvironment=NEXUS_DB_PASSWORD=\(value)\nEnvironment=\"NEXUS_MODE=lab\" \"NEXUS_API_TOKEN=\(value) x\"\n"
        ),
        (
          "/etc/nexus/app.json",
          "{\n  \"db_password\": \"\(value)\",\n  \"database_url\": \"postgresql://nexus_app:\(value)@db/nexus\"\n}\n"
        ),
        ("/etc/nexus/app.ini", "[api]\napi_key = \(value)\n[cache]\nurl = redis://:\(value)@127.0.0.1:6379/0\n"),
        ("/etc/nexus/app.env", "NEXUS_SECRET_KEY=\(value)\n"),
        ("/etc/nexus/app.yaml", "database:\n  password: \(value)\n"),
        // What a run killed two hours ago left: its scratch directory, not yet redacted.
        ("/var/tmp/nexus-dr-config.stale/server/etc/nexus/nexus.conf", "db_password = \(value)\n"),
      ]
      try await lab.withSSH("server") { server in
        let hadDropIn = try await server.run(.argv(["test", "-d", dropIn])).succeeded
        for file in written {
          // The value goes over stdin: never on a command line.
          var write = HostCommand(
            .argv(["sh", "-c", #"mkdir -p "$(dirname "$1")" && cat > "$1""#, "write", file.path]))
          write.stdin = Array(file.text.utf8)
          _ = try await server.runChecked(write)
        }
        _ = try await server.runChecked(
          .shell(
            "touch -d '2 hours ago' /var/tmp/nexus-dr-config.stale/server/etc/nexus/nexus.conf /var/tmp/nexus-dr-config.stale/server/etc/nexus /var/tmp/nexus-dr-config.stale/server/etc /var/tmp/nexus-dr-config.stale/server /var/tmp/nexus-dr-config.stale"
          ))

        var failure: (any Error)?
        do {
          let run = try await nexusDR(["run", "config-snapshot"])
          #expect(run.status == 0, "\(run.output.suffix(1200))")
          #expect(!run.output.contains(value), "the run's output holds the password")
          let latest =
            try FileManager.default.contentsOfDirectory(atPath: "\(nas)/config").filter { $0.hasPrefix("2") }.sorted()
            .last ?? ""
          let part = "\(nas)/config/\(latest)/server"
          let unit = (try? String(contentsOfFile: "\(part)\(dropIn)/override.conf", encoding: .utf8)) ?? ""
          #expect(
            unit.contains("Environment=NEXUS_DB_PASSWORD=[REDACTED]"),
            "the unit's drop-in is in the snapshot, redacted: \(latest)")
          #expect(unit.contains(#""NEXUS_API_TOKEN=[REDACTED]""#))
          let json = (try? String(contentsOfFile: "\(part)/etc/nexus/app.json", encoding: .utf8)) ?? ""
          #expect(
            json.contains(#""db_password": "[REDACTED]""#)
              && json.contains("postgresql://nexus_app:[REDACTED]@db/nexus"), "app.json is in the snapshot, redacted")
          // Nowhere the run wrote: the NAS, the journal and the reports.
          for place in [nas, state.path] {
            let found = try await local.run(.argv(["grep", "-rlF", "--", value, place], timeout: .seconds(300)))
            #expect(
              found.exitCode == 1, "the password is in \(found.stdoutText.prefix(600)) (grep \(found.termination))")
          }
          let scratch = try await server.run(.shell("ls -d /var/tmp/nexus-dr-config.* 2>/dev/null"))
          #expect(
            !scratch.stdoutText.contains("nexus-dr-config.stale"),
            "the scratch directory a killed run left two hours ago is still there")
          #expect(scratch.stdoutText.isEmpty, "scratch directories left: \(scratch.stdoutText)")
        } catch {
          failure = error
        }

        // Put the server back as it was, whatever failed above.
        _ = try await server.runChecked(
          .argv(["rm", "-rf", "--", "/var/tmp/nexus-dr-config.stale"] + written.map(\.path)))
        if !hadDropIn { _ = try await server.runChecked(.argv(["rm", "-rf", "--", dropIn])) }
        if let failure { throw failure }
      }
    }

    @Test("an attachment deleted on the server is still on the NAS the next night")
    func deletedAttachmentKept() async throws {
      try await lab.withSSH("server") { server in
        let victim = try await server.runChecked(
          .shell("find /var/nexus/attachments -type f -name '*.pdf' | sort | head -n 1")
        ).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!victim.isEmpty)
        let relative = String(victim.dropFirst("/var/nexus/attachments/".count))
        #expect(try await nexusDR(["routine", "nightly", "--input", "date=20261117"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: "\(nas)/attachments/\(relative)"))
        let content = try await server.runChecked(.argv(["cat", victim])).stdout
        _ = try await server.runChecked(.argv(["rm", victim]))
        #expect(try await nexusDR(["routine", "nightly", "--input", "date=20261118"]).status == 0)
        #expect(
          !FileManager.default.fileExists(atPath: "\(nas)/attachments/\(relative)"), "the mirror follows the server")
        let kept = "\(nas)/attachments/.history/20261118/\(relative)"
        #expect(FileManager.default.fileExists(atPath: kept), "the deleted file is kept under .history")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: kept))) == content)
        // Put it back for the other tests.
        var restore = HostCommand(.argv(["sh", "-c", #"cat > "$1""#, "restore", victim]))
        restore.stdin = content
        _ = try await server.runChecked(restore)
      }
      try await clearBackups()
    }

    @Test(
      "weekly restore test: passes on a good dump; a changed dump or a manifest that lies is CRITICAL, nothing else touched"
    )
    func restoreTest() async throws {
      try await clearBackups()
      #expect(try await nexusDR(["routine", "nightly", "--input", "date=20261119"]).status == 0)
      let good = try await nexusDR(["routine", "weekly", "--input", "date=20261119"])
      #expect(good.status == 0, "\(good.output)")
      #expect(good.output.contains("PASSED"))
      #expect(try await nexusDR(["health"]).output.contains("restore_test   passed"))

      let dump = "\(nas)/daily/nexus_20261119.dump"
      let manifestPath = "\(nas)/daily/nexus_20261119.manifest.json"
      let original = try Data(contentsOf: URL(fileURLWithPath: dump))
      let originalManifest = try Data(contentsOf: URL(fileURLWithPath: manifestPath))

      // Bytes changed after the manifest was written: caught by the checksum, before any restore.
      var tampered = original
      tampered[tampered.count / 2] ^= 0xFF
      try tampered.write(to: URL(fileURLWithPath: dump))
      let changed = try await nexusDR(["routine", "weekly", "--input", "date=20261119"])
      let healthChanged = try await nexusDR(["health"])
      #expect(changed.status == 1, "\(changed.output)")
      #expect(changed.output.contains("does not match its manifest"))
      #expect(
        healthChanged.status == 2 && healthChanged.output.contains("restore_test   FAILED"), "\(healthChanged.output)")
      #expect(try Data(contentsOf: URL(fileURLWithPath: dump)) == tampered, "the dump is left as it is")
      try original.write(to: URL(fileURLWithPath: dump))

      // A manifest whose counts do not match the dump.
      var lying = try DumpManifest.decode(originalManifest)
      lying.tables["public.patients"] = (lying.tables["public.patients"] ?? 0) + 1
      try Data(try lying.encoded()).write(to: URL(fileURLWithPath: manifestPath))
      let wrong = try await nexusDR(["routine", "weekly", "--input", "date=20261119"])
      let healthWrong = try await nexusDR(["health", "--json"])
      #expect(wrong.status == 1, "\(wrong.output)")
      #expect(wrong.output.contains("public.patients: manifest"))
      #expect(healthWrong.status == 2 && healthWrong.output.contains("\"status\" : \"CRITICAL\""))
      try originalManifest.write(to: URL(fileURLWithPath: manifestPath))

      // The production database was never touched, and no test database is left behind.
      try await PGConnection.with(conninfo: try lab.conninfo(database: "postgres")) { postgres in
        let left = try await postgres.query(
          "SELECT count(*) AS n FROM pg_database WHERE datname = 'nexus_restore_test'"
        ).first?.decode(Int.self, "n")
        #expect(left == 0)
      }
      try await clearBackups()
      try await lab.withSSH("server") { server in
        _ = try await server.run(.shell("rm -f /mnt/nas/nexus-backup/restore-test/result-*.json"))
      }
    }

    @Test("a database named nexus_restore_test that nexus-dr did not create is refused, not dropped")
    func foreignRestoreDatabase() async throws {
      try await clearBackups()
      #expect(try await nexusDR(["routine", "nightly", "--input", "date=20261120"]).status == 0)
      try await PGConnection.with(conninfo: try lab.conninfo(database: "postgres")) { postgres in
        try await postgres.query("CREATE DATABASE nexus_restore_test")
        let run = try await nexusDR(["routine", "weekly", "--input", "date=20261120"])
        #expect(run.status == 1)
        #expect(run.output.contains("nexus-dr did not create"))
        let still = try await postgres.query(
          "SELECT count(*) AS n FROM pg_database WHERE datname = 'nexus_restore_test'"
        ).first?.decode(Int.self, "n")
        #expect(still == 1)
        try await postgres.query("DROP DATABASE nexus_restore_test")
      }
      try await clearBackups()
    }

    @Test("systemd-analyze verify accepts the generated units")
    func timerUnits() async throws {
      let output = state.file("units")
      let printed = try await nexusDR(["timers", "print", "--output", output])
      #expect(printed.status == 0)
      let names = [
        "nexus-backup.service", "nexus-backup.timer", "nexus-restore-test.service", "nexus-restore-test.timer",
      ]
      #expect(files(output) == names.sorted())
      let verify = try await local.run(
        .argv(["systemd-analyze", "verify"] + names.map { "\(output)/\($0)" }, timeout: .seconds(60)))
      #expect(verify.exitCode == 0, "\(verify.stdoutText)\(verify.stderrText)")
      let timer = try String(contentsOfFile: "\(output)/nexus-backup.timer", encoding: .utf8)
      #expect(timer.contains("OnCalendar=*-*-* 02:00:00") && timer.contains("Persistent=true"))
      #expect(
        try String(contentsOfFile: "\(output)/nexus-restore-test.timer", encoding: .utf8).contains(
          "OnCalendar=Sun *-*-* 04:00:00"))
    }
  }
}
