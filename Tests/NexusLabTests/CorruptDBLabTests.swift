import Foundation
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
    repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  }

  var common: [String] { ["--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path, "--runbooks", "\(repository)/runbooks"] }

  func answers() throws -> String {
    try state.write("answers.yaml", "choose.choose-restore-point: dump\nconfirm.stop-services: yes\nmanual.confirm-resync: done\n")
  }

  func asides(_ connection: PGConnection) async throws -> [String] {
    try await connection.query("SELECT datname FROM pg_database WHERE datname LIKE 'nexus\\_corrupt\\_%' ORDER BY 1").rows.compactMap { $0["datname"] }
  }

  /// Drops the copies set aside by earlier tests — only while a healthy `nexus` exists;
  /// without one, the newest copy is renamed back instead, so no test ever loses the data.
  func dropAsides() async throws {
    let postgres = try await PGConnection.connect(conninfo: try lab.conninfo(database: "postgres"))
    let present = try await postgres.query("SELECT count(*) AS n FROM pg_database WHERE datname = 'nexus'").first?.decode(Int.self, "n") ?? 0
    var copies = try await asides(postgres)
    if present == 0, let newest = copies.popLast() {
      try await postgres.query("ALTER DATABASE \(identifier: newest) RENAME TO nexus")
      try await postgres.query("ALTER DATABASE nexus ALLOW_CONNECTIONS true")
    }
    for name in copies { try await postgres.query("DROP DATABASE \(identifier: name) WITH (FORCE)") }
    await postgres.close()
    let server = try lab.ssh("server")
    _ = try await server.run(.argv(["systemctl", "start", "nexus-api", "nexus-sync"], timeout: .seconds(60)))
    await server.close()
  }

  /// The restored database counted against the newest manifest, and pg_amcheck run on the server.
  func checkRestored(_ server: SSHTransport) async throws {
    let nas = try lab.value("NAS_MOUNT")
    let newest = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(nas)/daily").filter { $0.hasSuffix(".manifest.json") }.sorted().last)
    let manifest = try DumpManifest.decode(Data(contentsOf: URL(fileURLWithPath: "\(nas)/daily/\(newest)")))
    let nexus = try await PGConnection.connect(conninfo: try lab.conninfo())
    for (table, count) in manifest.tables {
      let parts = table.split(separator: ".").map(String.init)
      let found = try await nexus.query("SELECT count(*) AS n FROM \(identifier: parts[0]).\(identifier: parts[1])").first?.decode(Int64.self, "n")
      // The iPad's pushes arrive again once services are back, so only the inbox may have grown.
      if table == "staging.sync_inbox" { #expect((found ?? 0) >= count) } else { #expect(found == count, "\(table)") }
    }
    await nexus.close()
    let amcheck = try await server.run(.shell("cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_amcheck --heapallindexed -d nexus", timeout: .seconds(600)))
    #expect(amcheck.succeeded, "pg_amcheck: \(amcheck.stdoutText)\(amcheck.stderrText)")
  }

  @Test("real corruption (bytes overwritten in a heap file) is restored; the damaged database is kept aside")
  func realCorruption() async throws {
    try await dropAsides()
    let nightly = try await CLIProcess.run(["routine", "nightly"] + common)
    #expect(nightly.status == 0, "\(nightly.output)")
    let server = try lab.ssh("server")
    let path = try await server.runChecked(.shell("cd / && runuser -u postgres -- psql -X -At -d nexus -c \"SELECT current_setting('data_directory') || '/' || pg_relation_filepath('clinical_records')\"")).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    _ = try await server.runChecked(.argv(["systemctl", "stop", "postgresql"], timeout: .seconds(120)))
    _ = try await server.runChecked(.argv(["dd", "if=/dev/urandom", "of=\(path)", "bs=8192", "seek=1", "count=4", "conv=notrunc"]))
    _ = try await server.runChecked(.argv(["systemctl", "start", "postgresql"], timeout: .seconds(120)))
    let broken = try await PGConnection.connect(conninfo: try lab.conninfo())
    do {
      // sum(length(body)) reads every heap page (a count(*) could use an index-only scan).
      try await broken.query("SELECT sum(length(body)) FROM clinical_records")
      Issue.record("the corruption was not noticed")
    } catch {
      #expect(error.sqlState == "XX001", "\(error)")
    }
    await broken.close()

    let run = try await CLIProcess.run(["corrupt-db", "--answers", try answers()] + common)
    #expect(run.status == 0, "\(run.output)")
    #expect(run.output.contains("sync resumed"))
    try await checkRestored(server)
    let postgres = try await PGConnection.connect(conninfo: try lab.conninfo(database: "postgres"))
    #expect(try await asides(postgres).count == 1, "the damaged database is kept aside")
    await postgres.close()
    await server.close()
    try await dropAsides()
  }

  @Test("kill -9 of nexus-dr during pg_restore, then resume: the restore completes correctly")
  func killDuringRestore() async throws {
    try await dropAsides()
    let nightly = try await CLIProcess.run(["routine", "nightly"] + common)
    #expect(nightly.status == 0, "\(nightly.output)")
    let server = try lab.ssh("server")
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
    await server.close()
    try await dropAsides()
  }
}
}
