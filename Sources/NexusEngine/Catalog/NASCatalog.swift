import Foundation
import NexusBackup
import NexusCore
import NexusTransport

/// Everything nexus-dr keeps under its backup roots (the NAS, the fallback), read on the
/// server in one command: the dumps with their manifests, the base backups with their
/// manifests and WAL start, the archived WAL segments with the timeline history and the
/// cluster they belong to, the spool, the restore-test results and the config snapshots.
/// Rotation, restore choice, WAL pruning, base backups, health and the rehearsal read the
/// NAS through it; no other code lists the NAS.
struct NASCatalog {
  /// A backup root and its filesystem.
  struct Root {
    var path: String
    /// `findmnt`'s target and filesystem type when the root is a mount point.
    var mountTarget: String?
    var fstype: String?
    /// Free bytes on the root's filesystem.
    var available: Int64?
  }

  /// A file in a `daily/` directory (a manifest may be missing: then it is not valid).
  struct Dump {
    var root: String
    var name: String
    var size: Int64
  }

  struct Base {
    var root: String
    var name: String
    var path: String { "\(root)/base/\(name)" }
    /// On the NAS (compressed).
    var bytes: Int64
    /// Restored (the sum of the manifest's file sizes).
    var dataBytes: Int64
    var timeline: Int
    var startLSN: String
    var startSegment: String
    /// When pg_basebackup finished (its manifest's time): recovery cannot stop before this.
    var finishedAt: Date
  }

  struct Segment {
    var name: String
    var archivedAt: Date
    /// In the server's spool (`wal-spool/` on the fallback), not yet on the NAS.
    var spooled: Bool
  }

  var roots: [Root] = []
  var dumps: [Dump] = []
  /// Dump manifests by root and file name.
  var manifests: [String: [String: DumpManifest]] = [:]
  /// Verified base backups, newest first.
  var bases: [Base] = []
  /// Directories in `base/` that have no manifest (an interrupted backup): never valid.
  var incompleteBases: [(root: String, name: String)] = []
  /// Base backups whose manifest gave no timeline and start LSN.
  var unreadableBases: [String] = []
  var segments: [Segment] = []
  /// The archive's timeline history files, by timeline (a point-in-time recovery after an
  /// earlier one must follow one timeline's ancestry, never another's segment of the same number).
  var histories: [Int: TimelineHistory] = [:]
  /// History files that could not be read, said where a choice depends on them.
  var historyProblems: [String] = []
  /// The cluster the archive records (`wal/.cluster`), if it does.
  var archiveCluster: String?
  /// The archive's timelines: which segments recovery along each one reads (built once, by `parse`).
  var timelines = WALTimelines(files: [:], histories: [:])
  /// The newest restore-test results (`restore-test/result-*.json`, newest first) and the last
  /// point-in-time recovery's timing (`pitr-*.json`), as JSON.
  var restoreResults: [(root: String, json: Data)] = []
  var pitrResult: Data?
  /// Config snapshots (`config/<time>/`) by root, oldest first, with the parts they hold
  /// (`server`, `gate`, and `gate/etc/wireguard` when the gate's part has its WireGuard configuration).
  var configSnapshots: [String: [(name: String, parts: Set<String>)]] = [:]
  /// Free bytes where the data directory lives (when one was given).
  var available: Int64?

  static let script = RemoteScript.nasCatalog

  /// Reads the catalog of `roots` (and the spool, and the free space by `dataDirectory`) in one command.
  static func load(
    _ context: StepContext, roots: [String], spool: String? = nil, dataDirectory: String? = nil
  ) async throws(StepFailure) -> NASCatalog {
    let result = try await context.run(command(roots: roots, spool: spool, dataDirectory: dataDirectory), quiet: true)
    guard result.succeeded else {
      let places = roots + (spool.map { [$0] } ?? [])
      throw StepFailure(
        .failed, "cannot list the backups in \(places.joined(separator: " and ")): \(result.stderrTail)")
    }
    return parse(result.stdoutText)
  }

  /// The same, over a transport (health, which runs outside a step).
  static func load(on transport: any Transport, roots: [String], spool: String? = nil) async throws(TransportError)
    -> NASCatalog
  {
    parse(try await transport.runChecked(command(roots: roots, spool: spool, dataDirectory: nil)).stdoutText)
  }

  static func command(roots: [String], spool: String?, dataDirectory: String?) -> HostCommand {
    HostCommand(
      .argv(["bash", "-c", script, "nas-catalog", spool ?? "", dataDirectory ?? ""] + roots), timeout: .seconds(120))
  }

  /// The dumps of one `daily/` directory, newest first.
  func daily(in root: String, prefix: String = "nexus") -> DailyDumps {
    let entries = dumps.filter { $0.root == root }.compactMap { dump -> DailyDumps.Entry? in
      guard let date = RetentionPlan.date(in: dump.name, prefix: prefix, suffix: ".dump") else { return nil }
      return DailyDumps.Entry(
        name: dump.name, date: date, size: dump.size, manifest: manifests[root]?[DumpManifest.name(forDump: dump.name)])
    }.sorted { $0.date > $1.date }
    return DailyDumps(directory: "\(root)/daily", entries: entries)
  }

  func root(_ path: String) -> Root? { roots.first { $0.path == path } }

  /// `ROOT/config/<time>/<part>` of the newest snapshot that holds the part.
  func newestConfigSnapshot(of part: ConfigPart, in root: String) -> String? {
    configSnapshots[root]?.last { $0.parts.contains(part.rawValue) }.map {
      "\(root)/config/\($0.name)/\(part.rawValue)"
    }
  }

  /// The newest dump manifest under `root` (`daily/nexus_*.manifest.json`), whether or not its dump is whole.
  func newestDumpManifest(in root: String) -> String? {
    manifests[root]?.keys.filter { $0.hasPrefix("nexus_") }.max().map { "\(root)/daily/\($0)" }
  }

  /// The same, read from the host; fails the step when there is none.
  static func newestConfigSnapshot(of part: ConfigPart, nas: String, context: StepContext) async throws(StepFailure)
    -> String
  {
    guard let snapshot = try await load(context, roots: [nas]).newestConfigSnapshot(of: part, in: nas) else {
      throw StepFailure(.failed, "no snapshot of \(part.rawValue) under \(nas)/config", exitStatus: 3)
    }
    return snapshot
  }

  /// What WAL pruning removes from the archive (`wal/`, never the spool): files named after a
  /// segment (a segment, its `.partial` or `.backup` label) whose segment comes before
  /// `oldestNeeded` (the oldest kept base backup's start) and that were archived before
  /// `cutoff`. History files are always kept: recovery along a timeline needs them.
  func prunable(before oldestNeeded: String, archivedBefore cutoff: Date) -> [String] {
    segments.filter { segment in
      guard !segment.spooled, Self.namedLikeSegment(segment.name), !segment.name.hasSuffix(".history") else {
        return false
      }
      let number = segment.name.prefix { $0 != "." }
      return number < oldestNeeded && segment.archivedAt < cutoff
    }.map(\.name).sorted()
  }

  /// Segments waiting in the spool.
  var spooledSegments: Int { segments.filter { $0.spooled && Self.namedLikeSegment($0.name) }.count }

  /// A name that starts like a WAL segment's: an upper-case hexadecimal digit (`[0-9A-F]*`).
  static func namedLikeSegment(_ name: String) -> Bool {
    name.first.map { "0123456789ABCDEF".contains($0) } ?? false
  }
}

/// The dumps in one `daily/` directory with their manifests (from a ``NASCatalog``).
struct DailyDumps {
  struct Entry {
    var name: String
    var date: String
    var size: Int64
    var manifest: DumpManifest?

    /// Valid: a manifest that names this file and its exact size.
    var valid: Bool { manifest.map { $0.file == name && $0.sizeBytes == size } ?? false }
  }

  var directory: String
  var entries: [Entry]
}
