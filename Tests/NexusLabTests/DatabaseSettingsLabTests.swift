import Foundation
import NexusCore
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// Every PostgreSQL tool nexus-dr runs gets the inventory's host, port and password file.
  @Suite("The inventory's database settings reach every tool (lab)", .serialized)
  struct DatabaseSettingsLabTests {
    let lab: Lab
    let state: ScratchDirectory
    let repository: String

    init() throws {
      lab = try Lab.require()
      state = try ScratchDirectory("nexus-dr-db-settings")
      repository = Lab.repository
    }

    @Test(
      "a database on a non-default port with a password file that is not ~/.pgpass: nightly, weekly and a logical corrupt-db all work"
    )
    func nonDefaultPortAndPassfile() async throws {
      try await lab.withSSH("server") { server in
        let address = try lab.value("SERVER_IP")
        // PostgreSQL answers on 6432 too (the kernel redirects it to 5432 inside nexus-server), and
        // the only password file that knows port 6432 is this one: a tool on its defaults (the
        // socket, port 5432, ~/.pgpass) or without the inventory's passfile cannot pass as these settings.
        // (DNAT, not REDIRECT: for the server's own connections REDIRECT would go to 127.0.0.1.)
        let rules = [
          [
            "PREROUTING", "-p", "tcp", "-d", address, "--dport", "6432", "-j", "DNAT", "--to-destination",
            "\(address):5432",
          ],
          [
            "OUTPUT", "-p", "tcp", "-d", address, "--dport", "6432", "-j", "DNAT", "--to-destination",
            "\(address):5432",
          ],
        ]
        for rule in rules { _ = try await server.runChecked(.argv(["iptables", "-t", "nat", "-I"] + rule)) }
        let passfile = "/var/tmp/nexus-lab-pgpass-6432"
        let entries = try String(contentsOfFile: "\(lab.directory)/pgpass", encoding: .utf8).replacingOccurrences(
          of: ":5432:", with: ":6432:")
        FileManager.default.createFile(
          atPath: passfile, contents: Data(entries.utf8), attributes: [.posixPermissions: 0o600])
        let inventory = try String(contentsOfFile: lab.inventoryPath, encoding: .utf8)
          .replacingOccurrences(of: "port: 5432,", with: "port: 6432,")
          .replacing(#/passfile: "[^"]+"/#) { _ in "passfile: \"\(passfile)\"" }
        #expect(inventory.contains("port: 6432,") && inventory.contains(passfile))
        let path = try state.write("inventory-6432.yaml", inventory)
        let common = [
          "--inventory", path, "--env", "lab", "--state-dir", state.path, "--runbooks", "\(repository)/runbooks",
        ]
        let answers = try state.write(
          "answers.yaml", "choose.choose-restore-point: dump\nconfirm.stop-services: yes\nmanual.confirm-resync: done\n"
        )

        let nightly = try await CLIProcess.run(["routine", "nightly", "--input", "date=20261117"] + common)
        let weekly = try await CLIProcess.run(["routine", "weekly"] + common)
        let restore = try await CLIProcess.run(["corrupt-db", "--answers", answers] + common)
        for rule in rules { _ = try await server.run(.argv(["iptables", "-t", "nat", "-D"] + rule)) }
        try? FileManager.default.removeItem(atPath: passfile)
        #expect(nightly.status == 0, "pg_dump, pg_dumpall, the Clarity export: \(nightly.output.suffix(1500))")
        #expect(weekly.status == 0, "pg_basebackup, createdb, pg_restore, pg_amcheck: \(weekly.output.suffix(1500))")
        #expect(restore.status == 0, "pg_restore, pg_amcheck, the sync check's psql: \(restore.output.suffix(1500))")
        #expect(restore.output.contains("sync resumed"), "\(restore.output.suffix(600))")
        // The copy the logical restore set aside, once the restore is known good (a failed one
        // leaves both for a look, or scripts/lab reset).
        if restore.status == 0 { try await CorruptDBLabTests().dropAsides() }
      }
    }
  }
}
