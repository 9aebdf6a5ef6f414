import Foundation
import NexusCore
import NexusEngine
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// `nexus-dr rehearse` against the lab: each scenario broken for real by the lab's own
  /// commands (as the lab inventory's `rehearsal:` section says), recovered by its runbook,
  /// measured; the refusals; health before and after.
  @Suite("rehearse (lab)", .serialized)
  struct RehearsalLabTests {
    let state: ScratchDirectory
    let repository: String
    let local = LocalTransport()

    init() throws {
      state = try ScratchDirectory("nexus-dr-rehearse")
      repository = Lab.repository
    }

    func common(_ lab: Lab, inventory: String? = nil, env: String = "lab") -> [String] {
      [
        "--inventory", inventory ?? lab.inventoryPath, "--env", env, "--state-dir", state.path, "--runbooks",
        "\(repository)/runbooks",
      ]
    }

    /// The latest rehearsal of a scenario, as kept in the state directory.
    func rehearsal(_ scenario: String) throws -> RehearsalResult {
      try #require(
        RehearsalStore.all(stateDirectory: state.path).last { $0.scenario == scenario },
        "a rehearsal of \(scenario) was kept")
    }

    /// The routine runs first: a dump, a base backup (point in time needs one) and a config snapshot.
    func routine(_ lab: Lab) async throws {
      for arguments in [["run", "config-snapshot", "--yes"], ["routine", "nightly"], ["routine", "weekly"]] {
        let run = try await CLIProcess.run(arguments + common(lab))
        #expect(run.status == 0, "\(arguments): \(run.output)")
      }
    }

    func acked(_ lab: Lab) throws -> [AcknowledgementLog.Entry] {
      try AcknowledgementLog.read(try lab.value("ACKED_LOG"))
    }

    /// What every rehearsal must show: recovered, verified, measured and kept (0600 files in a 0700 directory).
    func checkKept(_ result: RehearsalResult, output: String) throws {
      #expect(result.runState == "completed", "\(output)")
      #expect(result.verified, "\(result.checks)")
      #expect(result.recoveryMs > 0)
      #expect(result.rtoMs == 7_200_000 && result.rpoMs == 300_000, "the lab inventory's objectives")
      let loss = try #require(result.dataLoss, "data loss measured")
      #expect(loss.acknowledged >= 5, "the witness had records acknowledged before the failure: \(loss.acknowledged)")
      #expect(
        output.contains("recovery time: \(DurationText.format(.milliseconds(result.recoveryMs)))"),
        "the summary says the recovery time")
      #expect(result.phases.contains { $0.kind == "injection" } && result.phases.contains { $0.kind == "step" })
      let directory = RehearsalStore.directory(stateDirectory: state.path, id: result.id)
      let html = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
      let markdown = try String(contentsOfFile: directory + "/report.md", encoding: .utf8)
      #expect(html.contains("RTO") && html.contains(DurationText.format(.milliseconds(result.recoveryMs))))
      #expect(markdown.contains("**Recovery time** | **\(DurationText.format(.milliseconds(result.recoveryMs)))**"))
      for file in ["rehearsal.json", "report.html", "report.md"] {
        let mode = try #require(
          try FileManager.default.attributesOfItem(atPath: "\(directory)/\(file)")[.posixPermissions] as? Int)
        #expect(mode == 0o600, "\(file) is \(String(mode, radix: 8))")
      }
      let mode = try #require(try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int)
      #expect(mode == 0o700)
    }

    @Test(
      "health: never rehearsed is WARNING; corrupt-db rehearsed (a real DROP TABLE, point in time back to it) is OK with zero acknowledged records lost"
    )
    func corruptDB() async throws {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      try await routine(lab)
      let before = try await CLIProcess.run(["health"] + common(lab))
      #expect(before.status == 1, "\(before.output)")
      #expect(before.output.contains("WARNING   rehearsal_corrupt_db NEVER REHEARSED"), "\(before.output)")
      let skipped = try await CLIProcess.run(["health", "--skip-rehearsals"] + common(lab))
      #expect(skipped.status == 0 && !skipped.output.contains("rehearsal_"), "\(skipped.output)")

      // Declined at the question: exit 4, nothing broken.
      let declined = try await CLIProcess.run(
        ["rehearse", "corrupt-db", "--answers", try state.write("no.yaml", "confirm.rehearse: no\n")] + common(lab))
      #expect(declined.status == 4, "\(declined.output)")
      #expect(
        declined.output.contains("This breaks lab for real: an accidental DROP TABLE public.appointments"),
        "it says what it will break")
      try await PGConnection.with(conninfo: try lab.conninfo()) { intact async throws in
        #expect(
          try await intact.query("SELECT to_regclass('public.appointments')::text AS t").first?["t"] == "appointments")
      }

      let firstSeq = (try acked(lab).last?.seq ?? 0) + 1
      let count = try acked(lab).count
      #expect(
        try await eventually(within: .seconds(60)) { try acked(lab).count >= count + 10 },
        "ipad-1 pushes before the rehearsal")
      let run = try await CLIProcess.run(["rehearse", "corrupt-db", "--yes"] + common(lab))
      #expect(run.status == 0, "\(run.output)")
      let result = try rehearsal("corrupt-db")
      try checkKept(result, output: run.output)
      #expect(result.outcome == .passed, "\(result.reason)")
      #expect(
        result.dataLoss?.lost == 0,
        "point in time to the drop loses nothing acknowledged: \(String(describing: result.dataLoss))")
      #expect(result.checks.contains { $0.hasPrefix("public.appointments is back with") }, "\(result.checks)")
      #expect(run.output.contains("pitr-target — point in time"), "recovered to the time of the drop")

      // Independently of the rehearsal's own count: every record acknowledged before the drop is there.
      let injected = try #require(JournalTime.parse(result.injectedAt))
      let promised = try acked(lab).filter { $0.seq >= firstSeq && $0.at < injected }.map(\.seq)
      #expect(promised.count >= 10)
      let (present, appointments) = try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
        let present = Set(
          try await postgres.query("SELECT seq FROM staging.sync_inbox WHERE device = 'ipad-1'").rows.compactMap {
            try? $0.decode(Int64.self, "seq")
          })
        let appointments = try await postgres.query("SELECT count(*) AS n FROM public.appointments").first?.decode(
          Int64.self, "n")
        return (present, appointments)
      }
      #expect(
        promised.allSatisfy { present.contains($0) },
        "acknowledged before the drop, missing: \(promised.filter { !present.contains($0) }.prefix(10))")
      #expect((appointments ?? 0) > 0)

      let after = try await CLIProcess.run(["health"] + common(lab))
      #expect(after.output.contains("OK        rehearsal_corrupt_db rehearsed in lab"), "\(after.output)")
      #expect(after.output.contains("WARNING   rehearsal_server_failure NEVER REHEARSED"))
      let json = try await CLIProcess.run(["health", "--json"] + common(lab))
      #expect(json.output.contains("\"name\" : \"rehearsal_corrupt_db\""), "\(json.output)")
    }

    @Test(
      "refused with exit 2 before anything is touched: --env production, and a staging whose host or database is production's"
    )
    func refusals() async throws {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      let net = try lab.value("LAB_NET")
      let labInventory = try String(contentsOfFile: lab.inventoryPath, encoding: .utf8)
      let labBody = labInventory.components(separatedBy: "\n").drop { !$0.hasPrefix("  lab:") }.dropFirst().joined(
        separator: "\n")
      func inventory(_ name: String, staging: String) throws -> String {
        // production is the lab's own hosts; staging is the lab copied with one thing changed.
        try state.write(
          name, "default: production\nenvironments:\n  production:\n" + labBody + "\n  staging:\n" + staging)
      }
      let aliasHost = try inventory(
        "alias-host.yaml",
        staging:
          labBody
          .replacingOccurrences(of: "address: \"\(net).10\"", with: "address: \"\(net).10\", port: 22")
          .replacingOccurrences(of: "host: \"\(net).10\", port: 5432", with: "host: \"\(net).21\", port: 5432"))
      let sameDatabase = try inventory(
        "same-database.yaml",
        staging:
          labBody
          .replacingOccurrences(of: "address: \"\(net).10\"", with: "address: \"\(net).99\"")
          .replacingOccurrences(of: "address: \"\(net).20\"", with: "address: \"\(net).98\"")
          .replacingOccurrences(of: "address: \"\(net).21\"", with: "address: \"\(net).97\""))
      let runsBefore = (try? FileManager.default.contentsOfDirectory(atPath: state.path + "/runs")) ?? []
      for (arguments, expected) in [
        (common(lab, inventory: aliasHost, env: "production"), "'production' is never rehearsed"),
        (
          common(lab, inventory: aliasHost, env: "staging"),
          "staging's host 'server' (\(net).10) is production's 'server'"
        ),
        (
          common(lab, inventory: sameDatabase, env: "staging"),
          "staging's database (\(net).10, port 5432) is production's"
        ),
      ] {
        let run = try await CLIProcess.run(["rehearse", "corrupt-db", "--yes"] + arguments)
        #expect(run.status == 2, "\(run.output)")
        #expect(run.output.contains(expected), "\(run.output)")
        #expect(run.output.contains("nothing was touched"))
      }
      // Nothing touched: the table is there, no run and no rehearsal was started.
      let table = try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
        try await postgres.query("SELECT to_regclass('public.appointments')::text AS t").first?["t"]
      }
      #expect(table == "appointments")
      #expect(((try? FileManager.default.contentsOfDirectory(atPath: state.path + "/runs")) ?? []) == runsBefore)
      #expect(RehearsalStore.all(stateDirectory: state.path).allSatisfy { $0.environment == "lab" })

      // Not ready (no snapshot, no restore point where this inventory's NAS is): exit 3 before the
      // server is destroyed; it still answers.
      let emptyNAS = try state.write(
        "empty-nas.yaml",
        labInventory.replacingOccurrences(
          of: "path: /mnt/nas/nexus-backup,", with: "path: /mnt/nas/nexus-backup/no-such-dir,"))
      let unready = try await CLIProcess.run(
        ["rehearse", "server-failure", "--yes"] + common(lab, inventory: emptyNAS))
      #expect(unready.status == 3, "\(unready.output)")
      #expect(
        unready.output.contains("[FAIL] a config snapshot of the server on the NAS")
          && unready.output.contains("nothing was broken"), "\(unready.output)")
      try await lab.withSSH("server") { server async throws in
        #expect(
          try await server.runChecked(.argv(["hostname"])).stdoutText.contains("nexus-server"),
          "the server was not touched")
      }

    }

    @Test(
      "gateway-failure rehearsed: the gate cut off, the standby takes over, nothing acknowledged lost; the gate put back afterwards"
    )
    func gatewayFailure() async throws {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      try await routine(lab)
      let run = try await CLIProcess.run(["rehearse", "gateway-failure", "--yes"] + common(lab))
      #expect(run.status == 0, "\(run.output)")
      let result = try rehearsal("gateway-failure")
      try checkKept(result, output: run.output)
      #expect(result.dataLoss?.lost == 0)
      #expect(
        result.phases.contains { $0.label.contains("handshakes") && $0.status == "completed" },
        "\(result.phases.map(\.label))")
      #expect(result.checks.contains("afterwards, lab was put back: lab gate-up"), "\(result.checks)")
      // The key given from secure storage is in no file the rehearsal wrote.
      let key = try String(contentsOfFile: try lab.value("GATE_WG_KEY"), encoding: .utf8).trimmingCharacters(
        in: .whitespacesAndNewlines)
      let found = try await local.run(.argv(["grep", "-rlF", key, state.path]))
      #expect(found.exitCode == 1, "the gate's private key in: \(found.stdoutText)")
      #expect(!run.output.contains(key))
    }

    @Test("nas-failure rehearsed: the NAS unmounted while the nightly runs, moved back, health OK")
    func nasFailure() async throws {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      try await routine(lab)
      let run = try await CLIProcess.run(["rehearse", "nas-failure", "--yes"] + common(lab))
      #expect(run.status == 0, "\(run.output)")
      let result = try rehearsal("nas-failure")
      try checkKept(result, output: run.output)
      #expect(result.dataLoss?.lost == 0)
      #expect(
        result.phases.contains { $0.kind == "outage" && $0.status == "completed" }, "the nightly ran into the fallback")
      #expect(result.phases.contains { $0.kind == "repair" })
      #expect(run.output.contains("NAS NOT USABLE"), "the nightly saw the NAS gone")
    }

    @Test(
      "server-failure rehearsed: the server destroyed, a new one provisioned, rebuilt; the loss measured is what was not archived"
    )
    func serverFailure() async throws {
      try await Lab.command(["up"])
      let lab = try Lab.require()
      try await routine(lab)
      let count = try acked(lab).count
      #expect(try await eventually(within: .seconds(60)) { try acked(lab).count >= count + 10 })
      let run = try await CLIProcess.run(["rehearse", "server-failure", "--yes"] + common(lab))
      #expect(run.status == 0, "\(run.output)")
      let result = try rehearsal("server-failure")
      try checkKept(result, output: run.output)
      let loss = try #require(result.dataLoss)
      // Whatever is lost was acknowledged after the restore point: the last archived commit.
      let report = try String(
        contentsOfFile: "\(state.path)/runs/\(try #require(result.runID))/report.json", encoding: .utf8)
      let recoveredTo = try #require(
        report.firstMatch(of: #/"key" : "recovered_to",\s*"value" : "([^"]+)"/#).map { String($0.output.1) })
      let restorePoint = try #require(ServerFailureLabTests.parseTime(recoveredTo), "recovered_to: \(recoveredTo)")
      let lostEntries = try acked(lab).filter { loss.lostSeqs.contains($0.seq) }
      #expect(lostEntries.count == min(loss.lost, 200))
      #expect(
        lostEntries.allSatisfy { $0.at > restorePoint },
        "lost only after the restore point \(recoveredTo): \(lostEntries.map(\.seq))")
      #expect(
        run.output.contains("the old entry for"),
        "the new host key was trusted: the repair's answer line gave the fingerprint")
      #expect(result.phases.contains { $0.kind == "repair" && $0.label.contains("server-provision") })
      try await Lab.command(["reset"])
    }
  }
}
