import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// `pg.pitr`: point-in-time recovery of the whole cluster from a base backup
/// and the archived WAL. The damaged data directory is moved aside (kept, never
/// deleted here); the base backup is extracted into a fresh one with the damaged
/// copy's WAL that never reached the archive; PostgreSQL replays the archive
/// through `nexus-dr wal fetch` up to `target_time` (or to its end), promotes,
/// and must come up on a new timeline. Restartable: a marker file in the data
/// directory says how far it got (`nexus-dr-extracting`: a half-extracted copy,
/// removed and extracted again; `nexus-dr-recovering`: extracted, PostgreSQL is
/// started or waited for; `nexus-dr-recovered`: done, by the run it names —
/// the same run asking again gets its outputs back instead of a second recovery).
/// A directory without a marker is never removed.
public struct PGPITRAction: StepAction {
  public static let name = "pg.pitr"
  public enum Parameter: String, ParameterKey {
    case base
    case targetTime = "target_time"
    case timeline
    case dataDirectory = "data_directory"
    case service
    case nexusDr = "nexus_dr"
    case replaces
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var base: Template
  public var targetTime: Template?
  /// The timeline to recover along (`recovery_target_timeline`): the one production was on at
  /// the target time, as `restore.choose` says; worked out from the archive when empty.
  public var timeline: Template?
  public var dataDirectory: Template?
  public var service: String
  public var nexusDR: String
  /// `damaged` (corrupt-db: the cluster being replaced is this site's, its last WAL
  /// is worth saving) or `new-cluster` (server-failure: the empty cluster a fresh
  /// install made — none of its WAL is archived or used, it is set aside as
  /// `DATA.new-cluster-TIME`).
  public var replaces: Replaced

  /// What the recovered cluster replaces: the damaged data directory (kept aside as
  /// `DATA.corrupt-TIME`), or a freshly initialised one on a rebuilt server.
  public enum Replaced: String, CaseIterable, Sendable {
    case damaged
    case newCluster = "new-cluster"
  }

  static let extracting = "nexus-dr-extracting"
  static let recovering = "nexus-dr-recovering"
  static let recovered = "nexus-dr-recovered"
  static let settings = [
    "restore_command", "recovery_target_time", "recovery_target_action", "recovery_target_timeline",
  ]

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    base = try context.template(
      try parameters.required(.base, hint: "the base backup directory: {{ steps.choose.output.base }}"))
    targetTime = try parameters[.targetTime].map(context.template)
    timeline = try parameters[.timeline].map(context.template)
    dataDirectory = try parameters[.dataDirectory].map(context.template)
    service = try parameters[.service]?.string() ?? "postgresql"
    nexusDR = try parameters[.nexusDr]?.string() ?? "/usr/local/sbin/nexus-dr"
    replaces = try parameters.choice(.replaces, default: .damaged) { "replaces is damaged or new-cluster, not '\($0)'" }
  }

  public var declaredOutputs: Set<String>? {
    ["aside", "data_directory", "timeline", "followed_timeline", "recovered_to", "wal_replayed"]
  }

  public func plan(_ context: PlanContext) -> [String] {
    let source = (try? base.render(context.values)) ?? base.description
    let environment = context.values.environment["name"] ?? "ENV"
    let fresh = replaces == .newCluster
    return [
      fresh
        ? "the cluster in the data directory is the new install's own: none of its WAL is archived or used"
        : "if PostgreSQL still answers: commit one transaction, pg_switch_wal(), wait until that segment is archived",
      "systemctl stop \(service); move the data directory aside to DATA.\(fresh ? "new-cluster" : "corrupt")-<timestamp> (kept, not deleted)",
      "extract \(source)/base.tar.gz and pg_wal.tar.gz into a fresh data directory (postgres, 0700)\(fresh ? "" : "; add the damaged copy's WAL the archive lacks (same system identifier only)")",
      "recovery.signal; restore_command = '\(nexusDR) wal fetch --env \(environment) %f %p'; recovery_target_timeline = the timeline production was on at the target; recovery_target_time if given, then promote",
      "systemctl start \(service); wait for the end of recovery; the timeline must be above the base backup's, and recovery must reach the end of the archived chain (or the target); the recovery settings are removed",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database, let nas = context.environment.nas else {
      throw StepFailure(.failed, "the inventory needs database and nas sections")
    }
    let basePath = try context.render(base)
    let target = try targetTime.map { template throws(StepFailure) in try context.render(template) } ?? ""
    let data = try await DataDirectory.resolve(
      try dataDirectory.map { template throws(StepFailure) in try context.render(template) }, context: context)
    let clock = ContinuousClock()
    try await NASCatalog.requireMountedNAS(holding: basePath, context: context)

    let root = URL(fileURLWithPath: basePath).deletingLastPathComponent().deletingLastPathComponent().path
    let sources = try await NASCatalog.load(
      context, roots: [root], spool: "\(nas.fallback)/wal-spool", dataDirectory: data)
    guard let baseInfo = sources.bases.first(where: { $0.path == basePath }) else {
      throw StepFailure(.failed, "\(basePath) is not a verified base backup (no backup_manifest with a start)")
    }
    let timelineText =
      try timeline.map { template throws(StepFailure) in try context.render(template) }?.trimmingCharacters(
        in: .whitespaces) ?? ""
    let recoveryTimeline: Int
    if timelineText.isEmpty {
      recoveryTimeline = sources.timelines.timeline(at: TargetTime.parse(target) ?? Date())
    } else {
      guard let parsed = Int(timelineText), parsed >= 1 else {
        throw StepFailure(.failed, "timeline '\(timelineText)' is not a timeline number")
      }
      recoveryTimeline = parsed
    }
    if let unreachable = sources.timelines.unreachable(from: baseInfo.startSegment, along: recoveryTimeline) {
      throw StepFailure(
        .failed,
        "base backup \(baseInfo.name) cannot be recovered along timeline \(recoveryTimeline): \(unreachable); nothing was changed — choose again (nexus-dr resume answers the question anew after abort)"
      )
    }
    let chain = sources.chain(from: baseInfo, along: recoveryTimeline)

    var (state, marker) = try await probe(data, context: context)
    var aside = marker.aside
    if state == "damaged", let outputs = try await recoveredByThisRun(data, context: context) {
      context.console.line(
        "    this run already recovered \(data) (timeline \(outputs["timeline"] ?? "?")); nothing to do again")
      return StepResult(outputs: outputs)
    }
    // An earlier attempt (another run, or this one before the operator chose again) with
    // another base backup or target: ours (it has the marker), never promoted — redo it.
    if state == "recovering",
      marker.base != basePath || marker.target != target
        || (!marker.timeline.isEmpty && marker.timeline != String(recoveryTimeline))
    {
      context.console.line(
        "    the data directory holds an earlier recovery attempt (base \(marker.base.isEmpty ? "?" : marker.base), target \(marker.target.isEmpty ? "end of the archive" : marker.target)); it never finished: starting again with this choice"
      )
      state = "extracting"
    }
    var extractMs: Int64?
    if state == "damaged" {
      if replaces == .damaged {
        try await archiveCurrentWAL(database, context: context)
      } else {
        context.console.line(
          "    the cluster in \(data) is the new install's own: none of its WAL is archived or replayed")
      }
      try await stopPostgres(data, context: context)
      let stamp = JournalTime.compact(Date())
      aside = "\(data).\(replaces == .damaged ? "corrupt" : "new-cluster")-\(stamp)"
      // Where the damaged copy went is written next to the data directory before the move,
      // so a crash right after it still finds the copy (and its unarchived WAL).
      let moved = try await context.run(
        HostCommand(
          .argv(["sh", "-c", RemoteScript.pgPitrAside, "aside", data, aside]), timeout: .seconds(120)), quiet: true)
      guard moved.succeeded else {
        _ = try? await context.run(.argv(["rm", "-f", "--", "\(data).nexus-dr-aside"]), quiet: true)
        throw StepFailure(
          .failed,
          "could not move \(data) aside to \(aside) (\(moved.stderrTail)); nothing was changed — if the data directory is a mount point, move its contents by hand"
        )
      }
      context.console.line(
        "    the \(replaces == .damaged ? "damaged" : "new cluster's") data directory is kept as \(aside)")
      state = "absent"
    }
    if state == "extracting" {
      try await stopPostgres(data, context: context)
      context.console.line("    removing the unfinished attempt (it carries nexus-dr's marker) and extracting again")
      let removed = try await context.run(
        HostCommand(
          .argv([
            "sh", "-c", #"{ [ -f "$1/$2" ] || [ -f "$1/$3" ]; } && rm -rf -- "$1""#, "remove-partial", data,
            Self.extracting, Self.recovering,
          ]), timeout: .seconds(600)), quiet: true)
      guard removed.succeeded else {
        throw StepFailure(.failed, "could not remove the half-extracted \(data): \(removed.stderrTail)")
      }
      state = "absent"
    }
    if state == "absent" {
      let start = clock.now
      try await extract(
        basePath, into: data, aside: aside, target: target, timeline: recoveryTimeline, context: context)
      _ = try await context.run(.argv(["rm", "-f", "--", "\(data).nexus-dr-aside"]), quiet: true)
      // Test-only: NEXUS_DR_CRASH_AT=STEP:after-extract dies like kill -9 with the attempt extracted, not started.
      FaultInjection.crashIfRequested(step: context.step.id, phase: "after-extract")
      extractMs = (clock.now - start).milliseconds
      state = "recovering"
    }

    let recoveryStart = clock.now
    let started = try await context.run(
      HostCommand(.argv(["systemctl", "start", service]), timeout: .seconds(300)), quiet: true)
    if !started.succeeded {
      // A long recovery can outlast the start timeout; it is still running if the postmaster is.
      guard try await postmasterRunning(data, context: context) else {
        throw StepFailure(
          .failed, "PostgreSQL did not start for recovery: \(started.stdoutText.suffix(400))\(started.stderrTail)")
      }
    }
    context.console.line(
      "    PostgreSQL is replaying WAL\(target.isEmpty ? " to the end of the archive" : " to \(target)")…")
    let finished = try await waitForPromotion(database, data: data, context: context)
    let recoveryMs = (clock.now - recoveryStart).milliseconds
    let (end, begin) = (Self.position(finished.lsn) ?? 0, Self.position(baseInfo.startLSN) ?? 0)
    let walBytes = end > begin ? Int64(end - begin) : 0

    let timeline = WALChain.timeline(finished.segment) ?? 0
    guard timeline > baseInfo.timeline else {
      throw StepFailure(
        .failed,
        "recovery ended on timeline \(timeline), not above the base backup's \(baseInfo.timeline): PostgreSQL did not promote as expected; it is running — check its log before anything else"
      )
    }
    // Never a silent shortfall: to the end of the archive, recovery must get at least as far as
    // the unbroken chain it was offered (a segment it could not read ends recovery early, and
    // PostgreSQL then promotes as if the archive ended there).
    if target.isEmpty, let reached = WALChain.number(finished.segment), let lastName = chain.last,
      let last = WALChain.number(lastName), reached < last
    {
      throw StepFailure(
        .failed,
        """
        recovery ended in segment \(finished.segment) (timeline \(timeline) begins there), short of the archived chain's end \(lastName) on timeline \(recoveryTimeline): \
        the WAL between them was not replayed (a segment unreadable or not fetched). PostgreSQL runs on this partial recovery; do not start the services. \
        The damaged copy is kept at \(aside.isEmpty ? "(none)" : aside). Check PostgreSQL's log for the segment after \(finished.segment) before anything else.
        """)
    }
    do {
      try await PGConnection.with(conninfo: database.conninfo(database: "postgres")) { connection in
        for setting in Self.settings { try await connection.query("ALTER SYSTEM RESET \(unsafeSQL: setting)") }
        try await connection.query("SELECT pg_reload_conf()")
      }
    } catch {
      throw StepFailure(
        .failed, "recovered, but the recovery settings could not be removed (ALTER SYSTEM RESET): \(error)")
    }
    let outputs = [
      "aside": aside, "data_directory": data, "timeline": String(timeline),
      "followed_timeline": String(recoveryTimeline),
      "recovered_to": finished.recoveredTo ?? "",
      "wal_replayed": String(walBytes),
    ]
    try await markRecovered(data, outputs: outputs, context: context)

    if let extractMs {
      let timing = PITRTiming(
        base: baseInfo.name, baseBytes: baseInfo.bytes, extractMs: extractMs, walBytes: walBytes,
        recoveryMs: recoveryMs,
        targetTime: target.isEmpty ? nil : target, recoveredTo: finished.recoveredTo, timeline: timeline,
        finishedAt: JournalTime.format(Date()))
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      if let encoded = try? encoder.encode(timing) {
        let stamp = JournalTime.format(Date()).replacingOccurrences(of: ":", with: "")
        _ = try? await context.run(
          HostCommandLines.makeDirectories("\(nas.path)/restore-test", subdirectories: []), quiet: true)
        _ = try? await context.run(
          HostCommandLines.writeFile("\(nas.path)/restore-test/pitr-\(stamp).json", content: Array(encoded)),
          quiet: true)
      }
    }
    context.console.line(
      "    recovered to \(finished.recoveredTo ?? (target.isEmpty ? "the end of the archive (no transaction replayed)" : "\(target) (no transaction replayed)")) on timeline \(timeline); \(walBytes >> 20) MiB of WAL since the base backup"
    )
    return StepResult(outputs: outputs)
  }

}
