import Foundation
import NexusCore
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// `config.restore` against snapshots on the lab's NAS, restored onto nexus-server.
  @Suite("config.restore (lab)", .serialized)
  struct ConfigRestoreLabTests {
    let lab: Lab
    let state: ScratchDirectory

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-config-restore")
    }

    var common: [String] { ["--inventory", lab.inventoryPath, "--env", "lab", "--state-dir", state.path] }

    @Test(
      "a snapshot holding more than configuration (a planted cron.d file, a setuid file, a FIFO) is refused, naming them; nothing is written"
    )
    func plantedFilesRefused() async throws {
      try await lab.withSSH("server") { server in
        // The newest snapshot (a far-future name sorts last), as someone with write access to the NAS could plant it.
        let snapshot = "/mnt/nas/nexus-backup/config/29991231T000000/server"
        _ = try await server.runChecked(
          .shell(
            """
            rm -rf /mnt/nas/nexus-backup/config/29991231T000000 && mkdir -p \(snapshot)/etc/cron.d \(snapshot)/etc/nexus && \
            printf '* * * * * root /tmp/owned\\n' > \(snapshot)/etc/cron.d/nexus-planted && \
            printf '#!/bin/sh\\n' > \(snapshot)/etc/nexus/planted-helper && chmod 4755 \(snapshot)/etc/nexus/planted-helper && \
            mkfifo \(snapshot)/etc/nexus/planted-pipe && \
            printf 'listen = 0.0.0.0\\n' > \(snapshot)/etc/nexus/planted.conf
            """))
        let runbook = try state.write(
          "restore-config.yaml",
          """
          runbook: restore-config
          title: Restore the server's configuration from the newest snapshot
          steps:
            - id: config
              title: The snapshot's configuration back onto the server
              host: server
              action: config.restore
          """)
        let run = try await CLIProcess.run(["run", runbook, "--yes"] + common)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.output.contains("holds more than configuration; nothing was restored"), "\(run.output)")
        #expect(run.output.contains("outside the configured paths: /etc/cron.d/nexus-planted"), "\(run.output)")
        #expect(run.output.contains("a setuid or setgid mode: /etc/nexus/planted-helper"), "\(run.output)")
        #expect(run.output.contains("a device, FIFO or socket: /etc/nexus/planted-pipe"), "\(run.output)")
        let written = try await server.run(
          .shell(
            "ls /etc/cron.d/nexus-planted /etc/nexus/planted-helper /etc/nexus/planted-pipe /etc/nexus/planted.conf 2>/dev/null"
          ))
        #expect(
          written.stdoutText.isEmpty,
          "nothing of the snapshot was written, not even its plain file: \(written.stdoutText)")
        _ = try await server.run(.argv(["rm", "-rf", "/mnt/nas/nexus-backup/config/29991231T000000"]))
      }
    }
  }
}
