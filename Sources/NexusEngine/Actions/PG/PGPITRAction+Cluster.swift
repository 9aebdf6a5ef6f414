import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// pg.pitr's work on the cluster: the last WAL archived, the service stopped for certain, the
/// base backup extracted, recovery watched to its end.
extension PGPITRAction {
  /// While PostgreSQL still runs: a committed transaction (so a recovery target
  /// before now is reached) and a WAL switch, then until that segment is archived.
  func archiveCurrentWAL(_ database: DatabaseSpec, context: StepContext) async throws(StepFailure) {
    guard let connection = try? await PGConnection.connect(conninfo: database.conninfo(database: "postgres")) else {
      context.console.line(
        "    PostgreSQL does not answer: WAL it never archived is taken from the damaged data directory")
      return
    }
    let message: String
    do {
      message = try await PGConnection.using(connection) { try await Self.switchAndWait($0) }
    } catch {
      message =
        "could not switch the server's WAL (\(error)): WAL it never archived is taken from the damaged data directory"
    }
    context.console.line("    \(message)")
  }

  static func switchAndWait(_ connection: PGConnection) async throws -> String {
    guard try await connection.query("SELECT pg_is_in_recovery() AS r").first?.decode(Bool.self, "r") == false else {
      return "the server is in recovery: nothing to switch"
    }
    try await connection.query("SELECT pg_current_xact_id()")
    guard let segment = try await connection.query("SELECT pg_walfile_name(pg_switch_wal()) AS s").first?["s"] else {
      return "pg_switch_wal returned nothing"
    }
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
      let last =
        try await connection.query("SELECT coalesce(last_archived_wal, '') AS w FROM pg_stat_archiver").first?["w"]
        ?? ""
      if last >= segment { return "the server's WAL up to \(segment) is archived" }
      try await Task.sleep(for: .milliseconds(250))
    }
    return "\(segment) was not archived within 60 s: it is taken from the damaged data directory instead"
  }

  /// Stops the unit, then checks the cluster itself: no live postmaster on the data
  /// directory (Debian's `postgresql` unit is an umbrella whose state says nothing about it).
  func stopPostgres(_ data: String, context: StepContext) async throws(StepFailure) {
    let stopped = try await context.run(
      HostCommand(.argv(["systemctl", "stop", service]), timeout: .seconds(300)), quiet: true)
    guard try await !postmasterRunning(data, context: context) else {
      throw StepFailure(
        .failed,
        "PostgreSQL still runs on \(data) after systemctl stop \(service) (\(stopped.stderrTail)); nothing was moved — stop the cluster (e.g. systemctl stop postgresql@15-main) and run the step again"
      )
    }
  }

  /// A postmaster is alive on `data` (its postmaster.pid names a live process).
  func postmasterRunning(_ data: String, context: StepContext) async throws(StepFailure) -> Bool {
    let check = try await context.run(
      .argv([
        "sh", "-c", #"[ -f "$1/postmaster.pid" ] && kill -0 "$(head -n 1 "$1/postmaster.pid")" 2>/dev/null"#,
        "postmaster", data,
      ]), quiet: true)
    return check.exitCode == 0
  }

  func extract(
    _ basePath: String, into data: String, aside: String, target: String, timeline: Int, context: StepContext
  ) async throws(StepFailure) {
    let environment = context.environment.name
    let restoreCommand = "\(nexusDR) wal fetch --env \(ShellQuote.quote(environment)) %f %p"
    var settings = "\n# point-in-time recovery by nexus-dr; removed (ALTER SYSTEM RESET) after promotion\n"
    // The timeline production was on at the target, explicitly: 'latest' would follow the newest
    // timeline even for a target on the branch an earlier recovery abandoned.
    settings += "restore_command = \(Self.conf(restoreCommand))\nrecovery_target_timeline = '\(timeline)'\n"
    if !target.isEmpty {
      settings += "recovery_target_time = \(Self.conf(target))\nrecovery_target_action = 'promote'\n"
    }
    let script = RemoteScript.pgPitrExtract
    let result = try await context.run(
      HostCommand(
        .argv([
          "bash", "-c", script, "extract", data, basePath, aside, settings, Self.extracting, Self.recovering, target,
          replaces.rawValue, String(timeline),
        ]), timeout: context.timeout), quiet: true)
    guard result.succeeded else {
      throw StepFailure(
        .failed,
        "extracting \(basePath) into \(data) failed (\(result.termination)): \(result.stderrTail.suffix(600)); the half-extracted directory carries \(Self.extracting) and is redone when the step runs again"
      )
    }
    let copied = result.stdoutText.firstMatch(of: #/copied=([0-9]+)/#).map { String($0.output.1) } ?? "0"
    if replaces == .newCluster {
      context.console.line("    base backup extracted into \(data); none of the new install's WAL is used")
      return
    }
    if result.stdoutText.contains("other=") {
      context.console.line(
        "    base backup extracted into \(data); \(aside) is another cluster (its system identifier differs from the base backup's): none of its WAL is used"
      )
      return
    }
    context.console.line(
      "    base backup extracted into \(data); "
        + (aside.isEmpty
          ? "no damaged copy to take unarchived WAL from (there was no data directory)"
          : "\(copied) WAL file(s) from the damaged copy's pg_wal added"))
  }

  /// A value for postgresql.conf: single-quoted, quotes doubled.
  static func conf(_ value: String) -> String {
    "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
  }

  struct Promotion {
    var segment: String
    var recoveredTo: String?
    var lsn: String
  }

  /// An LSN (`X/Y`) as a byte position.
  static func position(_ lsn: String) -> UInt64? {
    let parts = lsn.split(separator: "/")
    guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16) else {
      return nil
    }
    return high << 32 | low
  }

  /// Until PostgreSQL leaves recovery (it promotes at the target, or at the end of
  /// the archive); fails when it stops instead (e.g. the target was never reached).
  func waitForPromotion(_ database: DatabaseSpec, data: String, context: StepContext) async throws(StepFailure)
    -> Promotion
  {
    let deadline = ContinuousClock.now + context.timeout
    var lastError = ""
    while ContinuousClock.now < deadline {
      if let connection = try? await PGConnection.connect(conninfo: database.conninfo(database: "postgres")) {
        // Connected: from here the connection is closed on every path.
        do {
          let promotion = try await PGConnection.using(connection) { connection -> Promotion? in
            let row = try await connection.query(
              """
              SELECT pg_is_in_recovery() AS recovering, pg_last_xact_replay_timestamp()::text AS replayed,
                     CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_walfile_name(pg_current_wal_lsn()) END AS segment,
                     CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_current_wal_lsn()::text END AS lsn
              """
            ).first
            guard let row, try row.decode(Bool.self, "recovering") == false, let segment = row["segment"] else {
              return nil
            }
            return Promotion(segment: segment, recoveredTo: row["replayed"], lsn: row["lsn"] ?? "")
          }
          if let promotion { return promotion }
        } catch {
          lastError = "\(error)"
        }
      } else {
        if try await !postmasterRunning(data, context: context) {
          let status = try await context.run(.argv(["systemctl", "status", service]), quiet: true)
          throw StepFailure(
            .failed,
            """
            PostgreSQL stopped during recovery (for example: the WAL ends before the target time, or a segment is missing).
            The data directory stays as it is, marked \(Self.recovering); the damaged one is kept aside. Its log:
            \(status.stdoutText.suffix(1200))
            """)
        }
      }
      try? await Task.sleep(for: .seconds(1))
    }
    throw StepFailure(
      .failed,
      "PostgreSQL was still recovering after \(DurationText.format(context.timeout)) \(lastError); run the step again to keep waiting"
    )
  }
}
