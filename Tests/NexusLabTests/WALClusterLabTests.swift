import Foundation
import NexusCore
import NexusPostgres
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// The archive knows its cluster (`wal/.cluster`): another cluster's WAL is never mixed in.
  @Suite("WAL archive: its cluster (lab)", .serialized)
  struct WALClusterLabTests {
    let lab: Lab
    let state: ScratchDirectory

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-wal-cluster")
    }

    @Test(
      "a second cluster pointed at the same NAS: its segment is refused naming both identifiers, fetch refuses it into ours, health says CRITICAL"
    )
    func secondClusterRefused() async throws {
      try await lab.withSSH("server") { server in
        // The lab's own cluster archives a segment, which records the archive's cluster.
        let ours = try await PGConnection.with(conninfo: try lab.conninfo()) { postgres in
          let ours = try #require(
            try await postgres.query("SELECT system_identifier::text AS id FROM pg_control_system()").first?["id"])
          try await postgres.query("SELECT pg_current_xact_id()")
          let switched = try #require(
            try await postgres.query("SELECT pg_walfile_name(pg_switch_wal()) AS s").first?["s"])
          #expect(
            try await eventually(within: .seconds(60)) {
              (try await postgres.query("SELECT coalesce(last_archived_wal, '') AS w FROM pg_stat_archiver").first?["w"]
                ?? "") >= switched
            })
          return ours
        }
        let wal = "/mnt/nas/nexus-backup/wal"
        #expect(
          try await server.run(.argv(["cat", "\(wal)/.cluster"])).stdoutText == "\(ours)\n",
          "the archive records its cluster")

        // Another cluster (initdb'd on the same server: a second environment using this NAS).
        let scratch = "/var/tmp/nexus-lab-other-cluster"
        let name = "0000000100000000000000F7"
        _ = try await server.run(.argv(["rm", "-rf", scratch, "\(wal)/\(name)"]))
        _ = try await server.runChecked(
          .shell(
            "install -d -o postgres -m 0700 \(scratch) && cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D \(scratch)/data >/dev/null",
            timeout: .seconds(120)))
        let other = try await server.runChecked(
          .shell(
            "/usr/lib/postgresql/15/bin/pg_controldata \(scratch)/data | sed -n 's/^Database system identifier: *//p'")
        ).stdoutText
          .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!other.isEmpty && other != ours)
        let push = try await server.run(
          .shell(
            "cd \(scratch)/data && runuser -u postgres -- /usr/local/sbin/nexus-dr wal push --env lab pg_wal/000000010000000000000001 \(name)"
          ))
        #expect(push.exitCode == 1, "\(push.stdoutText)\(push.stderrText)")
        #expect(
          push.stderrText.contains(other) && push.stderrText.contains(ours),
          "both identifiers named: \(push.stderrText)")
        #expect(
          try await server.run(.argv(["test", "-e", "\(wal)/\(name)"])).exitCode == 1, "nothing mixed into the archive")

        // Planted by hand in the archive anyway: fetch, run in our data directory, stops recovery.
        _ = try await server.runChecked(
          .shell("cp \(scratch)/data/pg_wal/000000010000000000000001 \(wal)/\(name) && chown postgres \(wal)/\(name)"))
        let fetch = try await server.run(
          .shell(
            "cd /var/lib/postgresql/15/main && runuser -u postgres -- /usr/local/sbin/nexus-dr wal fetch --env lab \(name) /tmp/nexus-lab-fetched; echo status=$?"
          ))
        _ = try await server.run(.argv(["rm", "-f", "\(wal)/\(name)", "/tmp/nexus-lab-fetched"]))
        #expect(fetch.stdoutText.contains("status=126"), "\(fetch.stdoutText)\(fetch.stderrText)")
        #expect(fetch.stderrText.contains(other) && fetch.stderrText.contains(ours), "\(fetch.stderrText)")

        // An archive that records another cluster than the running one: health is CRITICAL.
        _ = try await server.run(
          .shell("cp -p \(wal)/.cluster \(scratch)/cluster.saved; printf '%s\\n' \(other) > \(wal)/.cluster"))
        let health = try await CLIProcess.run([
          "health", "--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path,
        ])
        _ = try await server.run(
          .shell(
            "if [ -f \(scratch)/cluster.saved ]; then cp -p \(scratch)/cluster.saved \(wal)/.cluster; else rm -f \(wal)/.cluster; fi; rm -rf \(scratch)"
          ))
        #expect(health.status == 2, "\(health.output)")
        #expect(
          health.output.contains("wal_cluster") && health.output.contains("belongs to the cluster \(other)"),
          "\(health.output)")
      }
    }
  }
}
