import Foundation
import Testing

@Suite("nexus-dr --help and --version")
struct HelpTests {
  /// The operator at 3 a.m. reads from the top: the scenarios first, then the routine, then
  /// what looks without changing anything, then the setup.
  static let rootHelp = """
    OVERVIEW: Disaster-recovery runbooks for the Nexus clinic system.

    Exit status: 0 done; 1 a step failed (resumable); 2 invalid input; 3 a check
    failed, nothing changed; 4 the operator declined; 5 another run holds the lock;
    130 interrupted.
    Documentation: docs/operator-guide.md, docs/inventory.md, docs/lab.md.

    USAGE: nexus-dr <subcommand>

    OPTIONS:
      --version               Show the version.
      -h, --help              Show help information.

    SCENARIO SUBCOMMANDS:
      corrupt-db              Restore a damaged database: choose the restore point,
                              keep the damaged copy aside, restore, verify, restart.
      server-failure          Rebuild a dead nexus-server: verify the new machine,
                              set it up, restore configuration, secrets and the
                              database from the NAS, re-key its tunnel on the gate.
      gateway-failure         Replace a dead nexus-gate: the standby (or a new Pi)
                              gets the gate's WireGuard configuration and key, its
                              address, and the tunnel.
      nas-failure             Bring the NAS back: check the new mount, move the
                              fallback's backups onto it (verified), prove it with
                              a nightly and a weekly.
      resume                  Continue an unfinished run (the environment's latest
                              by default).

    ROUTINE SUBCOMMANDS:
      routine                 Run a routine backup runbook (what the systemd timers
                              call).
      run                     Run a runbook (by id or path): preflight, then its
                              steps, journaled and resumable.
      rehearse                Rehearse a disaster in staging or the lab: break it
                              for real, recover with the runbook, measure recovery
                              time and data loss.
      wal                     PostgreSQL's archive_command (push) and
                              restore_command (fetch), durable and NAS-aware.

    INSPECTION SUBCOMMANDS:
      runs                    Past runs: id, runbook, environment, state, start and
                              duration.
      report                  Print a run's report (md, json or html), rebuilt from
                              its journal; or a rehearsal's, by its id.
      health                  Backup health for nexus-health: dumps, base backups,
                              WAL archiving, NAS, fallback, restore tests.
      plan                    Show the checks, steps, hosts and the exact commands
                              a runbook would run. Changes nothing; contacts no
                              host unless --probe.
      preflight               Run a runbook's preflight checks alone; changes
                              nothing. Exit 3 if any fails.

    SETUP SUBCOMMANDS:
      lint                    Validate runbooks and the inventory; exit 2 on any
                              error.
      hosts                   Reach the environment's hosts.
      timers                  The systemd units for the routine runbooks (nightly
                              02:00, weekly Sunday 04:00).

      See 'nexus-dr help <subcommand>' for detailed help.

    """

  @Test("--help lists the scenarios first, then routine, inspection and setup, each abstract wrapped")
  func rootHelp() async throws {
    let result = try await BuiltNexusDR.run(["--help"])
    #expect(result.exitCode == 0)
    #expect(result.stdoutText == Self.rootHelp)
    #expect(result.stderrText.isEmpty)
  }

  @Test("help without a subcommand is --help")
  func helpCommand() async throws {
    let result = try await BuiltNexusDR.run(["help"])
    #expect(result.exitCode == 0)
    #expect(result.stdoutText == Self.rootHelp)
  }

  @Test("--version prints the version alone")
  func version() async throws {
    let result = try await BuiltNexusDR.run(["--version"])
    #expect(result.exitCode == 0)
    #expect(result.stdoutText == "0.1.0\n")
  }

  @Test(
    "every subcommand has help, exit 0",
    arguments: [
      "corrupt-db", "server-failure", "gateway-failure", "nas-failure", "resume", "routine", "run", "rehearse", "wal",
      "wal push", "wal fetch", "runs", "report", "health", "plan", "preflight", "lint", "hosts", "hosts check",
      "timers",
      "timers print", "timers install",
    ])
  func subcommandHelp(_ command: String) async throws {
    let words = command.split(separator: " ").map(String.init)
    let result = try await BuiltNexusDR.run(words + ["--help"])
    #expect(result.exitCode == 0, "\(result.stderrText)")
    #expect(result.stdoutText.hasPrefix("OVERVIEW: "))
    #expect(result.stdoutText.contains("USAGE: nexus-dr \(command) "), "\(result.stdoutText)")
  }

  @Test("closed sets list their values: rehearse's scenarios, report's formats, health's formats")
  func values() async throws {
    let rehearse = try await BuiltNexusDR.run(["rehearse", "--help"])
    #expect(
      rehearse.stdoutText.contains(
        "(values: corrupt-db,\n                          server-failure, gateway-failure, nas-failure)"),
      "\(rehearse.stdoutText)")
    let report = try await BuiltNexusDR.run(["report", "--help"])
    #expect(
      report.stdoutText.contains("(values: md, json, html;\n                          default: md)"),
      "\(report.stdoutText)")
    let health = try await BuiltNexusDR.run(["health", "--help"])
    #expect(health.stdoutText.contains("  --json                  JSON for nexus-health.\n"), "\(health.stdoutText)")
    #expect(health.stdoutText.contains("  --prometheus            node_exporter textfile format.\n"))
  }

  @Test("gateway-failure's --key-file is required (in its usage, not in brackets)")
  func requiredKeyFile() async throws {
    let result = try await BuiltNexusDR.run(["gateway-failure", "--help"])
    #expect(result.stdoutText.contains("[--host <NAME=TARGET> ...] --key-file <key-file>\n"), "\(result.stdoutText)")
  }
}
