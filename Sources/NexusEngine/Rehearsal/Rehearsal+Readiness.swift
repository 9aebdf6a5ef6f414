import Foundation
import NexusCore
import NexusTransport

// Ready? A rehearsal that cannot recover is not started: nothing is broken until the runbook's
// own checks and what the recovery will need from the NAS have passed.
extension Rehearsal {
  /// Preflight checks that hold only once the failure is there.
  static let failureChecks: Set<String> = ["server-down", "gate-down", "fallback-holds"]

  /// What the recovery will need from the NAS, checked while the server still runs (the
  /// runbook looks for it only after the failure, when a missing piece is too late to find).
  static let needs: [String: [(title: String, script: String)]] = [
    "server-failure": [
      ("a config snapshot of the server on the NAS (nexus-dr run config-snapshot)", #"ls -1d "$1"/config/*/server 2>/dev/null | tail -n 1 | grep ."#),
      ("a restore point on the NAS (a dump with its manifest, or a base backup)", #"ls -1 "$1"/daily/nexus_*.manifest.json "$1"/base/*/backup_manifest 2>/dev/null | tail -n 1 | grep ."#),
    ],
    "gateway-failure": [
      ("a snapshot of the gate's configuration on the NAS (nexus-dr run config-snapshot)", #"ls -1d "$1"/config/*/gate/etc/wireguard 2>/dev/null | tail -n 1 | grep ."#)
    ],
    "corrupt-db": [
      ("a base backup on the NAS, for point in time (nexus-dr routine weekly)", #"ls -1 "$1"/base/*/backup_manifest 2>/dev/null | tail -n 1 | grep ."#)
    ],
  ]

  /// Whether the environment can be rehearsed now: `runbook`'s preflight without the checks
  /// that need the failure (the host down, the fallback holding backups), and the backups the
  /// recovery will need. Each check is printed; nothing changes.
  public func isReady(runbook: Runbook, options: RunOptions, console: ConsoleOutput) async -> Bool {
    console.heading("Is \(environment.name) ready for this rehearsal? (the runbook's checks that do not need the failure)")
    var ready = runbook
    ready.preflight = runbook.preflight.filter { check in
      if case .hostDown = check.probe { return false }
      return !Self.failureChecks.contains(check.id)
    }
    var readyOptions = options
    readyOptions.inputs = spec.inputs
    let checksPassed = await RunEngine(runbook: ready, environment: environment, options: readyOptions).preflightOnly() == .done
    let backupsPassed = await backupsReady(answers: options.answers, console: console)
    return checksPassed && backupsPassed
  }

  func backupsReady(answers: [String: String], console: ConsoleOutput) async -> Bool {
    guard var needs = Self.needs[scenario], !needs.isEmpty, let nas = environment.nas else { return true }
    if scenario == "corrupt-db" && (answers["choose.choose-restore-point"] ?? spec.answers["choose.choose-restore-point"]) == "dump" {
      needs = [("a dump with its manifest on the NAS (nexus-dr routine nightly)", #"ls -1 "$1"/daily/nexus_*.manifest.json 2>/dev/null | tail -n 1 | grep ."#)]
    }
    let transports = HostTransports(environment: environment)
    var ok = true
    for need in needs {
      do {
        let result = try await transports.transport(for: "server").run(.argv(["sh", "-c", need.script, "readiness", nas.path], timeout: .seconds(60)))
        let evidence = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        if result.succeeded {
          console.line("  [pass] \(need.title): \(evidence)")
        } else {
          console.line("  [FAIL] \(need.title): none found under \(nas.path)")
          ok = false
        }
      } catch {
        console.line("  [FAIL] \(need.title): \(error)")
        ok = false
      }
    }
    await transports.closeAll()
    return ok
  }
}
