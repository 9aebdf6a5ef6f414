// Measurements for scripts/bench; prints one JSON object per figure. Not a test:
// the figures are printed and compared in the same run, never asserted.
import Foundation
import NexusCore
import NexusEngine
import NexusTransport

let arguments = CommandLine.arguments.dropFirst()
let mode = arguments.first ?? "commands"
let count = Int(arguments.dropFirst().first ?? "") ?? 200
let lab = try BenchLab.require()
let clock = ContinuousClock()

switch mode {
case "commands":
  // Per command over one reused libssh2 session, against a fresh `ssh host true` each.
  try await lab.withSSH("gate") { gate in
    _ = try await gate.runChecked(.argv(["true"]))
    var reused: [Double] = []
    for _ in 0..<count {
      let start = clock.now
      _ = try await gate.runChecked(.argv(["true"]))
      reused.append((clock.now - start).secondsValue * 1000)
    }
    emit(figure("libssh2 reused session, per command", reused))
  }
  let local = LocalTransport()
  let address = try lab.value("GATE_IP")
  var fresh: [Double] = []
  for _ in 0..<max(10, count / 10) {
    let start = clock.now
    _ = try await local.runChecked(
      .argv([
        "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(lab.knownHosts)",
        "-i", lab.identity, "root@\(address)", "true",
      ]))
    fresh.append((clock.now - start).secondsValue * 1000)
  }
  emit(figure("fresh ssh per command", fresh))
  emit(figure("ssh with ControlMaster, per command", try await controlMaster(lab: lab, address: address, count: count)))
case "transfer":
  let scratch = try BenchScratch()
  let file = scratch.file("payload.bin")
  _ = try await LocalTransport().runChecked(.shell("head -c \(count)M /dev/urandom > \(ShellQuote.quote(file))"))
  try await lab.withSSH("gate") { gate in
    var up: [Double] = []
    var down: [Double] = []
    for round in 0..<3 {
      let remote = "/tmp/nexus-bench-\(round).bin"
      var start = clock.now
      _ = try await gate.upload(from: file, to: remote, mode: 0o600)
      up.append((clock.now - start).secondsValue)
      start = clock.now
      _ = try await gate.download(from: remote, to: scratch.file("back.bin"))
      down.append((clock.now - start).secondsValue)
      _ = try await gate.run(.argv(["rm", "-f", remote]))
    }
    emit(figure("upload \(count) MiB, verified", unit: "s", up))
    emit(figure("download \(count) MiB, verified", unit: "s", down))
  }
case "engine":
  // A runbook of N `true` steps on the gate through the engine (journal fsync per record,
  // bookkeeping, progress output), against the same N commands on a bare session.
  let scratch = try BenchScratch()
  let steps = (1...count).map { "  - { id: s\($0), host: gate, action: shell, with: { argv: [\"true\"] } }" }
  let file = try scratch.write("bench.yaml", "runbook: bench\nsteps:\n" + steps.joined(separator: "\n") + "\n")
  let runbook = try RunbookLoader.load(file: file)
  let environment = try lab.environment()
  var engineTimes: [Double] = []
  var bareTimes: [Double] = []
  for round in 0..<3 {
    let options = RunOptions(stateDirectory: scratch.file("state-\(round)"), toolVersion: "bench")
    let engine = RunEngine(runbook: runbook, environment: environment, options: options)
    let start = clock.now
    let (exit, _) = await engine.start()
    guard exit == .done else { fatalError("bench run failed: \(exit)") }
    engineTimes.append((clock.now - start).secondsValue * 1000 / Double(count))
    try await lab.withSSH("gate") { gate in
      let bareStart = clock.now
      for _ in 0..<count { _ = try await gate.runChecked(.argv(["true"])) }
      bareTimes.append((clock.now - bareStart).secondsValue * 1000 / Double(count))
    }
  }
  emit(figure("engine, per step (\(count)-step runbook)", engineTimes))
  emit(figure("bare session, per command (same \(count))", bareTimes))
case "dump":
  // backup.dump (snapshot, exact counts, pg_dump --snapshot, verify, sha256, manifest)
  // against a plain `pg_dump -Fc` of the same database at the same compression, and
  // pg_dump alone at several compression levels (time and size).
  try await lab.withSSH("server") { server in
    let rounds = Int(arguments.dropFirst().first ?? "") ?? 3
    let database = try lab.database()
    func plainDump(_ level: Int) async throws -> (Double, Int64) {
      let start = clock.now
      _ = try await server.runChecked(
        .argv(
          [
            "pg_dump", "-Fc", "-Z", "\(level)", "--no-password", "--host=\(database.host)",
            "--username=\(database.backupRole)", "--dbname=\(database.name)", "--file=/var/tmp/bench.dump",
          ], timeout: .seconds(3600)))
      let seconds = (clock.now - start).secondsValue
      let size =
        Int64(
          try await server.runChecked(.argv(["stat", "-c", "%s", "/var/tmp/bench.dump"])).stdoutText.trimmingCharacters(
            in: .whitespacesAndNewlines)) ?? 0
      _ = try await server.run(.argv(["rm", "-f", "/var/tmp/bench.dump"]))
      return (seconds, size)
    }
    let scratch = try BenchScratch()
    let file = try scratch.write(
      "dump.yaml",
      """
      runbook: bench-dump
      steps:
        - { id: dump, host: server, action: backup.dump, timeout: 2h, with: { target: /var/tmp/nexus-bench, date: "20000101" } }
      """)
    let runbook = try RunbookLoader.load(file: file)
    var engine: [Double] = []
    var plain: [Double] = []
    for round in 0..<rounds {
      let options = RunOptions(stateDirectory: scratch.file("state-\(round)"), toolVersion: "bench")
      let start = clock.now
      let (exit, _) = await RunEngine(runbook: runbook, environment: try lab.environment(), options: options).start()
      guard exit == .done else { fatalError("backup.dump failed") }
      engine.append((clock.now - start).secondsValue)
      _ = try await server.run(.argv(["rm", "-rf", "/var/tmp/nexus-bench"]))
      plain.append(try await plainDump(3).0)
    }
    emit(figure("backup.dump (snapshot counts, verify, sha256, manifest), -Z3", unit: "s", engine))
    emit(figure("plain pg_dump -Fc -Z3", unit: "s", plain))
    for level in (ProcessInfo.processInfo.environment["BENCH_LEVELS"] ?? "0,1,3,6,9").split(separator: ",").compactMap({
      Int($0)
    }) {
      let (seconds, size) = try await plainDump(level)
      emit(figure("pg_dump -Fc -Z\(level) time", unit: "s", [seconds]))
      emit(figure("pg_dump -Fc -Z\(level) size", unit: "MB", [Double(size) / 1e6]))
    }
  }
case "nightly":
  // The nightly runbook through nexus-dr against the same commands as a plain shell
  // script run on the server over one ssh command (what a cron job would do).
  let rounds = Int(arguments.dropFirst().first ?? "") ?? 3
  let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  let runbook = try RunbookLoader.load(file: "\(repository)/runbooks/nightly.yaml")
  let raw = try String(contentsOfFile: "\(repository)/scripts/bench-nightly-raw.sh", encoding: .utf8)
  try await lab.withSSH("server") { server in
    let scratch = try BenchScratch()
    var engine: [Double] = []
    var shell: [Double] = []
    for round in 0..<rounds {
      let options = RunOptions(
        stateDirectory: scratch.file("state-\(round)"), inputs: ["date": "20000102"], toolVersion: "bench")
      var start = clock.now
      let (exit, _) = await RunEngine(runbook: runbook, environment: try lab.environment(), options: options).start()
      guard exit == .done else { fatalError("nightly failed") }
      engine.append((clock.now - start).secondsValue)
      _ = try await server.run(
        .shell("rm -f /mnt/nas/nexus-backup/daily/nexus_20000102.* /mnt/nas/nexus-backup/clarity/clarity_20000102.dump")
      )
      var command = HostCommand(
        .argv(["bash", "-s", "20000103", try lab.database().host]), timeout: .seconds(7200))
      command.stdin = Array(raw.utf8)
      start = clock.now
      _ = try await server.runChecked(command)
      shell.append((clock.now - start).secondsValue)
      _ = try await server.run(
        .shell("rm -f /mnt/nas/nexus-backup/daily/nexus_20000103.* /mnt/nas/nexus-backup/clarity/clarity_20000103.dump")
      )
    }
    emit(figure("nightly through nexus-dr", unit: "s", engine))
    emit(figure("nightly as a plain shell script", unit: "s", shell))
  }
case "restore":
  // corrupt-db's logical restore through nexus-dr (choose, stop services, set aside,
  // pg_restore -j N, exact counts + pg_amcheck, start services, sync resumes) against the
  // same work by hand (rename, createdb, pg_restore -j N, pg_amcheck), and against a
  // single-job pg_restore; then one point-in-time recovery to the end of the archive.
  let rounds = Int(arguments.dropFirst().first ?? "") ?? 3
  let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  try await lab.withSSH("server") { server in
    let environment = try lab.environment()
    let scratch = try BenchScratch()
    let jobs = try await server.runChecked(.argv(["nproc"])).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    func runbook(_ id: String, _ options: RunOptions) async throws {
      let (exit, _) = await RunEngine(
        runbook: try RunbookLoader.load(file: "\(repository)/runbooks/\(id).yaml"), environment: environment,
        options: options
      ).start()
      guard exit == .done else { fatalError("\(id) failed (\(exit)); see \(options.stateDirectory)") }
    }
    // Every restore writes the whole database into WAL, which archive_command puts on the
    // NAS (~2.5 GB per restore at the 2 GB fixture): the bench removes the archived segments
    // it caused after each restore (older than the current one), or the NAS fills by the
    // third round. Lab only; the point-in-time measurement below takes a fresh base backup.
    func dropBenchWAL() async throws {
      _ = try await server.runChecked(
        .shell(
          #"""
          cd / && current=$(runuser -u postgres -- psql -X -At -d postgres -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
          find /mnt/nas/nexus-backup/wal -maxdepth 1 -type f -name '0*' ! -name '*.history' -printf '%f\n' |
            awk -v c="$current" 'substr($0, 1, 24) < c' | while read -r n; do rm -f -- "/mnt/nas/nexus-backup/wal/$n"; done; true
          """#, timeout: .seconds(600)))
    }
    func dropAsides() async throws {
      try await dropBenchWAL()
      _ = try await server.runChecked(
        .shell(
          #"""
          cd / && for db in $(runuser -u postgres -- psql -X -At -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'nexus\_corrupt\_%' OR datname = 'nexus_bench_aside'"); do
            runuser -u postgres -- dropdb --force "$db"; done
          """#, timeout: .seconds(600)))
    }
    try await runbook("nightly", RunOptions(stateDirectory: scratch.file("nightly"), toolVersion: "bench"))
    let dump = try await server.runChecked(.shell("ls -1 /mnt/nas/nexus-backup/daily/nexus_*.dump | sort | tail -n 1"))
      .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    let raw = #"""
      set -e
      cd /
      jobs=$1; dump=$2; amcheck=$3
      systemctl stop nexus-api nexus-sync
      owner=$(runuser -u postgres -- psql -X -At -d postgres -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'nexus'")
      runuser -u postgres -- psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'nexus' AND pid <> pg_backend_pid()" >/dev/null
      runuser -u postgres -- psql -X -q -d postgres -c "ALTER DATABASE nexus RENAME TO nexus_bench_aside"
      runuser -u postgres -- createdb -O "$owner" -T template0 nexus
      runuser -u postgres -- pg_restore --exit-on-error --jobs="$jobs" --dbname=nexus "$dump"
      [ "$amcheck" = yes ] && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_amcheck --install-missing --heapallindexed --jobs="$jobs" -d nexus
      systemctl start nexus-api nexus-sync
      """#
    var engine: [Double] = []
    var byHand: [Double] = []
    var single: [Double] = []
    let answers = [
      "choose.choose-restore-point": "dump", "confirm.stop-services": "yes", "manual.confirm-resync": "done",
    ]
    for round in 0..<rounds {
      var start = clock.now
      try await runbook(
        "corrupt-db",
        RunOptions(stateDirectory: scratch.file("corrupt-\(round)"), answers: answers, toolVersion: "bench"))
      engine.append((clock.now - start).secondsValue)
      try await dropAsides()
      start = clock.now
      _ = try await server.runChecked(.argv(["bash", "-c", raw, "raw", jobs, dump, "yes"], timeout: .seconds(7200)))
      byHand.append((clock.now - start).secondsValue)
      try await dropAsides()
      start = clock.now
      _ = try await server.runChecked(.argv(["bash", "-c", raw, "raw", "1", dump, "no"], timeout: .seconds(7200)))
      single.append((clock.now - start).secondsValue)
      try await dropAsides()
    }
    emit(figure("corrupt-db logical restore through nexus-dr", unit: "s", engine))
    emit(figure("by hand: pg_restore -j \(jobs) + pg_amcheck", unit: "s", byHand))
    emit(figure("by hand: single-job pg_restore, no amcheck", unit: "s", single))
    if ProcessInfo.processInfo.environment["BENCH_PITR"] != "0" {
      try await runbook("weekly", RunOptions(stateDirectory: scratch.file("weekly"), toolVersion: "bench"))
      let start = clock.now
      try await runbook(
        "corrupt-db",
        RunOptions(
          stateDirectory: scratch.file("pitr"),
          answers: answers.merging(["choose.choose-restore-point": "pitr-latest", "confirm.pitr": "yes"]) { $1 },
          toolVersion: "bench"))
      emit(
        figure(
          "corrupt-db point in time (end of archive) through nexus-dr", unit: "s", [(clock.now - start).secondsValue]))
      _ = try await server.runChecked(.shell("rm -rf /var/lib/postgresql/15/main.corrupt-*", timeout: .seconds(600)))
    }
  }
default:
  FileHandle.standardError.write(
    Data(
      "usage: nexus-bench commands [N] | transfer [MiB] | engine [N] | dump [ROUNDS] | nightly [ROUNDS] | restore [ROUNDS]\n"
        .utf8))
  exit(2)
}
