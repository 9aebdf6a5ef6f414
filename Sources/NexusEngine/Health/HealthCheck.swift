import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// Gathers health: what the routine runbooks left on the NAS and the fallback
/// (manifests, base backups, spool), and live probes (mount, free space,
/// `pg_stat_archiver`). One command on the server gathers the files' facts.
public struct HealthCheck: Sendable {
  public var environment: Environment
  public var transports: HostTransports
  /// Where the routine runs' journals are, for the outcome of the latest nightly and weekly.
  public var stateDirectory: String?
  /// Age limits: a dump older than 26 h is late (WARNING), older than 50 h CRITICAL.
  public var dumpWarning: TimeInterval = 26 * 3600
  public var dumpCritical: TimeInterval = 50 * 3600
  public var baseWarning: TimeInterval = 8 * 86_400
  public var baseCritical: TimeInterval = 15 * 86_400
  public var restoreTestWarning: TimeInterval = 8 * 86_400
  /// Per scenario, when it was last rehearsed (WARNING if never, over 30 days ago, failed or
  /// outside an objective). Off for `health --skip-rehearsals`.
  public var includeRehearsals = true
  public var rehearsalWarning: TimeInterval = 30 * 86_400

  public init(environment: Environment, transports: HostTransports, stateDirectory: String? = nil) {
    self.environment = environment
    self.transports = transports
    self.stateDirectory = stateDirectory
  }

  /// The latest run of each routine runbook in this environment: a failed one is CRITICAL, with its error.
  func routineRuns() -> [HealthReport.Item] {
    guard let stateDirectory else { return [] }
    let runs = RunDirectory.all(stateDirectory: stateDirectory).filter { $0.environment == environment.name }
    var items: [HealthReport.Item] = []
    for routine in ["nightly", "weekly"] {
      guard let last = runs.last(where: { $0.runbookID == routine }) else { continue }
      let holder = RunLock.holder(stateDirectory: stateDirectory, environment: environment.name)
      let state = last.state(lockHeldByThisRun: holder?.runID == last.runID)
      let when = last.startTime.map { JournalTime.display($0) } ?? "?"
      switch state {
      case .completed, .running:
        items.append(
          .init(name: "\(routine)_run", status: .ok, summary: "run \(last.runID) \(state.rawValue) (started \(when))"))
      default:
        let failure = last.records.last { $0.type == .stepFailed }
        let reason = (failure?.error ?? "no step error recorded").split(separator: "\n").prefix(3).joined(
          separator: " / ")
        items.append(
          .init(
            name: "\(routine)_run", status: .critical,
            summary: "run \(last.runID) \(state.rawValue) (started \(when)) at step \(failure?.step ?? "?"): \(reason)")
        )
      }
    }
    return items
  }

  static let gather = RemoteScript.healthGather

  public func run() async -> HealthReport {
    let now = Date()
    var items: [HealthReport.Item] = []
    guard let nas = environment.nas else {
      return HealthReport(
        environment: environment.name, checkedAt: JournalTime.format(now),
        items: [
          .init(name: "nas", status: .unknown, summary: "the inventory has no nas section")
        ])
    }
    let facts: [[String]]
    var catalog: NASCatalog
    do {
      let server = try transports.transport(for: "server")
      let result = try await server.runChecked(
        .argv(["sh", "-c", Self.gather, "health", nas.path], timeout: .seconds(60)))
      facts = result.stdoutText.split(separator: "\n").map {
        $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      }
      catalog = try await NASCatalog.load(
        on: server, roots: [nas.path, nas.fallback], spool: "\(nas.fallback)/wal-spool")
    } catch {
      return HealthReport(
        environment: environment.name, checkedAt: JournalTime.format(now),
        items: [
          .init(
            name: "server", status: .unknown,
            summary:
              "cannot reach the server to check the backups: \(error.description.split(separator: "\n").first ?? "")")
        ])
    }
    func values(_ kind: String) -> [[String]] { facts.filter { $0.first == kind }.map { Array($0.dropFirst()) } }
    let mount = values("mount").first?.first ?? ""
    let free = values("free").first?.first.flatMap(Double.init)
    if mount.isEmpty {
      // An unmounted NAS's mount point is a directory on the server's own disk: what is there is not on the NAS.
      catalog.dumps.removeAll { $0.root == nas.path }
      catalog.bases.removeAll { $0.root == nas.path }
      catalog.archiveCluster = nil
      catalog.restoreResults.removeAll { $0.root == nas.path }
    }
    func place(_ root: String) -> String { root == nas.path ? "nas" : "fallback" }

    // The NAS itself.
    let mountParts = mount.split(separator: " ")
    if mountParts.count < 2 {
      items.append(
        .init(
          name: "nas", status: .critical,
          summary: "\(nas.path) is NOT MOUNTED: backups go to the server's own disk (\(nas.fallback))"))
    } else if let expected = nas.fstype, String(mountParts[1]) != expected {
      items.append(
        .init(name: "nas", status: .critical, summary: "\(nas.path) is \(mountParts[1]), expected \(expected)"))
    } else if values("writable").first?.first != "yes" {
      items.append(.init(name: "nas", status: .critical, summary: "\(nas.path) is mounted but not writable"))
    } else if let free, free < Double(nas.minFree.bytes) {
      items.append(
        .init(
          name: "nas", status: .warning, summary: "\(ByteSize(bytes: Int64(free))) free, below min_free \(nas.minFree)",
          value: free, unit: "bytes"))
    } else {
      items.append(
        .init(
          name: "nas", status: .ok,
          summary:
            "mounted (\(mountParts[1])), writable, \(free.map { ByteSize(bytes: Int64($0)).description } ?? "?") free",
          value: free, unit: "bytes"))
    }

    // Backups that are on the server's disk instead of the NAS.
    let fallbackDumps = catalog.dumps.filter { $0.root == nas.fallback && $0.name.hasPrefix("nexus_") }.count
    let spooled = catalog.spooledSegments
    if fallbackDumps > 0 || spooled > 0 {
      items.append(
        .init(
          name: "fallback", status: .critical,
          summary:
            "FALLBACK IN USE: \(fallbackDumps) dump(s) and \(spooled) WAL segment(s) on the server's disk in \(nas.fallback); move them with the nas-failure runbook",
          value: Double(fallbackDumps + spooled), unit: "files"))
    } else {
      items.append(.init(name: "fallback", status: .ok, summary: "not in use", value: 0, unit: "files"))
    }

    // The newest valid dump, wherever it is, and its size against the others.
    var valid: [(where: String, manifest: DumpManifest)] = []
    for root in [nas.path, nas.fallback] {
      for entry in catalog.daily(in: root).entries where entry.valid {
        if let manifest = entry.manifest { valid.append((place(root), manifest)) }
      }
    }
    valid.sort { $0.manifest.file > $1.manifest.file }
    if let newest = valid.first, let finished = JournalTime.parse(newest.manifest.finishedAt) {
      let age = now.timeIntervalSince(finished)
      let status: HealthReport.Status = age > dumpCritical ? .critical : age > dumpWarning ? .warning : .ok
      items.append(
        .init(
          name: "last_dump", status: status,
          summary:
            "\(newest.manifest.file) on the \(newest.where), \(Self.age(age)) old, \(newest.manifest.totalRows) rows in \(newest.manifest.tables.count) tables",
          value: age, unit: "seconds"))
      let others = valid.dropFirst().map(\.manifest.sizeBytes)
      let anomaly = SizeAnomaly.evaluate(size: newest.manifest.sizeBytes, others: Array(others))
      items.append(
        .init(
          name: "dump_size", status: anomaly.anomalous ? .warning : .ok,
          summary: "\(ByteSize(bytes: newest.manifest.sizeBytes))"
            + (anomaly.median.map { ", median of the others \(ByteSize(bytes: $0))" } ?? ", nothing to compare yet")
            + (anomaly.anomalous ? ": SIZE ANOMALY (outside ±50%)" : ""),
          value: Double(newest.manifest.sizeBytes), unit: "bytes"))
    } else {
      items.append(
        .init(
          name: "last_dump", status: .critical,
          summary: "no valid dump (a dump with a matching manifest) on the NAS or the fallback"))
    }

    // Base backups, for point-in-time recovery.
    let bases = catalog.bases.map { ($0.name, $0.finishedAt.timeIntervalSince1970) }
    if let newest = bases.first {
      let age = now.timeIntervalSince1970 - newest.1
      let status: HealthReport.Status = age > baseCritical ? .critical : age > baseWarning ? .warning : .ok
      items.append(
        .init(
          name: "base_backup", status: status, summary: "base/\(newest.0), \(Self.age(age)) old (\(bases.count) kept)",
          value: age, unit: "seconds"))
    } else {
      items.append(
        .init(
          name: "base_backup", status: .critical,
          summary: "no base backup: point-in-time recovery is impossible until the weekly runbook has run"))
    }

    // WAL archiving, as PostgreSQL sees it.
    if let database = environment.database {
      do {
        let archiver = try await WALArchiverStatus.read(database)
        let status: HealthReport.Status = archiver.failing ? .critical : .ok
        items.append(
          .init(
            name: "wal_archiving", status: status, summary: archiver.summary, value: archiver.lagSeconds,
            unit: "seconds"))
      } catch {
        items.append(
          .init(
            name: "wal_archiving", status: .unknown,
            summary: "cannot read pg_stat_archiver: \("\(error)".split(separator: "\n").first ?? "")"))
      }
      // The archive records its cluster (wal/.cluster); this server's must be that one, or wal push refuses its WAL.
      if let recorded = catalog.archiveCluster, !recorded.isEmpty {
        let running = await Self.systemIdentifier(database)
        if let running, running != recorded {
          items.append(
            .init(
              name: "wal_cluster", status: .critical,
              summary:
                "the WAL archive \(nas.path)/wal belongs to the cluster \(recorded), this server's PostgreSQL is the cluster \(running): its WAL is refused (archiving fails, pg_wal grows). A new cluster needs an archive of its own: docs/nas.md, 'The archive knows its cluster'"
            ))
        } else {
          items.append(
            .init(
              name: "wal_cluster", status: running == nil ? .unknown : .ok,
              summary: running == nil
                ? "the archive belongs to the cluster \(recorded); PostgreSQL does not answer to compare"
                : "the archive belongs to this cluster (\(recorded))"))
        }
      }
    }

    // The last restore test (written by the weekly restore verification).
    let tests = catalog.restoreResults.compactMap { try? JSONDecoder().decode(RestoreTestSummary.self, from: $0.json) }
      .sorted { $0.finishedAt > $1.finishedAt }
    if let last = tests.first {
      let age = JournalTime.parse(last.finishedAt).map { now.timeIntervalSince($0) } ?? .infinity
      let status: HealthReport.Status = !last.passed ? .critical : age > restoreTestWarning ? .warning : .ok
      items.append(
        .init(
          name: "restore_test", status: status,
          summary: "\(last.passed ? "passed" : "FAILED") \(Self.age(age)) ago on \(last.dump)",
          value: age.isFinite ? age : nil, unit: "seconds"))
    } else {
      items.append(
        .init(name: "restore_test", status: .warning, summary: "no restore test result yet in restore-test/"))
    }
    items += routineRuns()
    if includeRehearsals, let stateDirectory {
      items += RehearsalHealth.items(
        rehearsals: RehearsalStore.all(stateDirectory: stateDirectory), objectives: environment.objectives, now: now,
        warningAge: rehearsalWarning)
    }
    return HealthReport(environment: environment.name, checkedAt: JournalTime.format(now), items: items)
  }

  /// The running cluster's system identifier, as text (nil when PostgreSQL does not answer).
  static func systemIdentifier(_ database: DatabaseSpec) async -> String? {
    try? await PGConnection.with(conninfo: database.conninfo(database: "postgres")) { connection in
      try await connection.query("SELECT system_identifier::text AS id FROM pg_control_system()").first?["id"]
    }
  }

  static func age(_ seconds: TimeInterval) -> String {
    if !seconds.isFinite { return "?" }
    if seconds < 3600 { return "\(Int(seconds / 60)) min" }
    if seconds < 172_800 { return String(format: "%.1f h", seconds / 3600) }
    return String(format: "%.1f days", seconds / 86_400)
  }
}

/// What a restore test leaves in `restore-test/result-*.json` (the fields health reads).
public struct RestoreTestSummary: Codable, Sendable {
  public var passed: Bool
  public var dump: String
  public var finishedAt: String

  enum CodingKeys: String, CodingKey {
    case passed, dump
    case finishedAt = "finished_at"
  }
}
