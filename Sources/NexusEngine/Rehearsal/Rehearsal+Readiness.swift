import Foundation
import NexusCore
import NexusTransport

// Ready? A rehearsal that cannot recover is not started: nothing is broken until the runbook's
// own checks and what the recovery will need from the NAS have passed.
extension Rehearsal {
  /// Preflight checks that hold only once the failure is there.
  static let failureChecks: Set<String> = ["server-down", "gate-down", "fallback-holds"]

  /// One thing the recovery will need from the NAS: what it is, and where the catalog shows
  /// it (nil: there is none).
  struct Need: Sendable {
    var title: String
    var evidence: @Sendable (NASCatalog, String) -> String?
  }

  /// What the recovery will need from the NAS, checked while the server still runs (the
  /// runbook looks for it only after the failure, when a missing piece is too late to find).
  static let needs: [String: [Need]] = [
    "server-failure": [
      Need(title: "a config snapshot of the server on the NAS (nexus-dr run config-snapshot)") { catalog, nas in
        catalog.newestConfigSnapshot(of: .server, in: nas)
      },
      Need(title: "a restore point on the NAS (a dump with its manifest, or a base backup)") { catalog, nas in
        catalog.bases.first.map { "\($0.path)/backup_manifest" } ?? catalog.newestDumpManifest(in: nas)
      },
    ],
    "gateway-failure": [
      Need(title: "a snapshot of the gate's configuration on the NAS (nexus-dr run config-snapshot)") { catalog, nas in
        catalog.configSnapshots[nas]?.last { $0.parts.contains("gate/etc/wireguard") }.map {
          "\(nas)/config/\($0.name)/gate/etc/wireguard"
        }
      }
    ],
    "corrupt-db": [baseBackup],
  ]
  static let baseBackup = Need(title: "a base backup on the NAS, for point in time (nexus-dr routine weekly)") {
    catalog, _ in
    catalog.bases.first.map { "\($0.path)/backup_manifest" }
  }
  static let dump = Need(title: "a dump with its manifest on the NAS (nexus-dr routine nightly)") { catalog, nas in
    catalog.newestDumpManifest(in: nas)
  }

  /// Whether the environment can be rehearsed now: `runbook`'s preflight without the checks
  /// that need the failure (the host down, the fallback holding backups), and the backups the
  /// recovery will need. Each check is printed; nothing changes.
  public func isReady(runbook: Runbook, options: RunOptions, console: ConsoleOutput) async -> Bool {
    console.heading(
      "Is \(environment.name) ready for this rehearsal? (the runbook's checks that do not need the failure)")
    var ready = runbook
    ready.preflight = runbook.preflight.filter { check in
      if case .hostDown = check.probe { return false }
      return !Self.failureChecks.contains(check.id)
    }
    var readyOptions = options
    readyOptions.inputs = spec.inputs
    let checksPassed =
      await RunEngine(runbook: ready, environment: environment, options: readyOptions).preflightOnly() == .done
    let backupsPassed = await backupsReady(answers: options.answers, console: console)
    return checksPassed && backupsPassed
  }

  func backupsReady(answers: [String: String], console: ConsoleOutput) async -> Bool {
    guard var needs = Self.needs[scenario], !needs.isEmpty, let nas = environment.nas else { return true }
    if scenario == "corrupt-db"
      && (answers["choose.choose-restore-point"] ?? spec.answers["choose.choose-restore-point"]) == "dump"
    {
      needs = [Self.dump]
    }
    let transports = HostTransports(environment: environment)
    var ok = true
    do {
      let catalog = try await NASCatalog.load(on: try transports.transport(for: "server"), roots: [nas.path])
      for need in needs {
        if let evidence = need.evidence(catalog, nas.path) {
          console.line("  [pass] \(need.title): \(evidence)")
        } else {
          console.line("  [FAIL] \(need.title): none found under \(nas.path)")
          ok = false
        }
      }
    } catch {
      for need in needs { console.line("  [FAIL] \(need.title): \(error)") }
      ok = false
    }
    await transports.closeAll()
    return ok
  }
}
