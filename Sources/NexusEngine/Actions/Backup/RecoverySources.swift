import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// What the NAS holds for point-in-time recovery — the verified base backups and
/// every archived WAL segment (the NAS and the server's spool) — and the free
/// space where the data directory lives. Read on the server in one command.
struct RecoverySources {
  struct Base {
    var name: String
    var path: String
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
  }

  var bases: [Base]
  var segments: [Segment]
  /// The archive's timeline history files, by timeline (a point-in-time recovery after an
  /// earlier one must follow one timeline's ancestry, never another's segment of the same number).
  var histories: [Int: TimelineHistory] = [:]
  /// History files that could not be read, said where a choice depends on them.
  var historyProblems: [String] = []
  /// The cluster the archive records (`wal/.cluster`), if it does.
  var archiveCluster: String?
  /// The archive's timelines: which segments recovery along each one reads (built once, by `parse`).
  var timelines = WALTimelines(files: [:], histories: [:])
  var available: Int64?
  /// Free bytes on the NAS (where a logical restore's WAL is archived).
  var nasAvailable: Int64?

  static let script = RemoteScript.recoverySources

  /// A restore source on the NAS while the NAS is not mounted: the files are not gone, the
  /// mount is. Fails the step with that (before anything is changed) instead of letting the
  /// empty directory underneath read as "no such backup".
  static func requireMountedNAS(holding path: String, context: StepContext) async throws(StepFailure) {
    guard let nas = context.environment.nas, path == nas.path || path.hasPrefix(nas.path + "/") else { return }
    let mounted = try await context.run(HostCommand(.argv(["findmnt", "--noheadings", "--mountpoint", nas.path]), timeout: .seconds(30)), quiet: true)
    guard !mounted.succeeded else { return }
    throw StepFailure(.failed, "the NAS is not mounted at \(nas.path) (\(path) is on it); this step changed nothing. Mount the NAS, then: nexus-dr resume")
  }

  static func load(_ context: StepContext, root: String, spool: String, dataDirectory: String) async throws(StepFailure) -> RecoverySources {
    let result = try await context.run(
      HostCommand(.argv(["bash", "-c", script, "recovery-sources", root, spool, dataDirectory]), timeout: .seconds(120)), quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot list the base backups and WAL in \(root): \(result.stderrTail)") }
    return parse(result.stdoutText)
  }

  static func parse(_ text: String) -> RecoverySources {
    var sources = RecoverySources(bases: [], segments: [])
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      switch fields.first {
      case "base" where fields.count == 6:
        guard let bytes = Int64(fields[2]), let dataBytes = Int64(fields[3]), let finished = Double(fields[4]),
          let match = fields[5].firstMatch(of: #/"Timeline":([0-9]+),"Start-LSN":"([^"]+)"/#), let timeline = Int(match.output.1),
          let segment = WALSegment.name(lsn: String(match.output.2), timeline: timeline)
        else { continue }
        sources.bases.append(Base(
          name: URL(fileURLWithPath: fields[1]).lastPathComponent, path: fields[1], bytes: bytes, dataBytes: dataBytes,
          timeline: timeline, startLSN: String(match.output.2), startSegment: segment, finishedAt: Date(timeIntervalSince1970: finished)))
      case "wal" where fields.count == 3:
        guard let stamp = Double(fields[2]) else { continue }
        sources.segments.append(Segment(name: fields[1], archivedAt: Date(timeIntervalSince1970: stamp)))
      case "history" where fields.count == 3:
        guard let bytes = Data(base64Encoded: fields[2]) else { continue }
        do {
          let history = try TimelineHistory(parsing: String(decoding: bytes, as: UTF8.self), file: fields[1])
          sources.histories[history.timeline] = history
        } catch {
          sources.historyProblems.append("\(error)")
        }
      case "cluster" where fields.count == 2:
        sources.archiveCluster = fields[1]
      case "avail" where fields.count == 2:
        sources.available = Int64(fields[1])
      case "nasavail" where fields.count == 2:
        sources.nasAvailable = Int64(fields[1])
      default:
        continue
      }
    }
    sources.bases.sort { $0.name > $1.name }
    var files: [String: Date] = [:]
    for segment in sources.segments { files[segment.name] = max(files[segment.name] ?? .distantPast, segment.archivedAt) }
    sources.timelines = WALTimelines(files: files, histories: sources.histories)
    return sources
  }


  /// The unbroken run of WAL from `base` along `timeline`'s ancestry: each parent's segments
  /// up to its switch point, then the timeline's own; no other timeline fills a gap.
  func chain(from base: Base, along timeline: Int) -> WALChain {
    timelines.chain(from: base.startSegment, along: timeline)
  }

  /// The newest base backup (finished before `before`, when given) from which recovery can
  /// follow `timeline`: on it or on one of its ancestors before the branch point.
  func base(reaching timeline: Int, before: Date? = nil) -> Base? {
    bases.first { base in
      (before.map { base.finishedAt < $0 } ?? true) && timelines.unreachable(from: base.startSegment, along: timeline) == nil
    }
  }

  /// When the segment was archived (the newest copy, if the NAS and the spool both hold it).
  func archivedAt(_ name: String) -> Date? {
    segments.filter { $0.name == name }.map(\.archivedAt).max()
  }

  /// Bytes of WAL from the base backup's start to the end of its unbroken chain.
  func walBytes(_ chain: WALChain) -> Int64 {
    guard let first = WALChain.number(chain.start), let last = chain.last.flatMap(WALChain.number), last >= first else { return 0 }
    return Int64(last - first + 1) * 16 << 20
  }
}

/// Where the cluster's data directory is: the step's parameter, else what the
/// running server says, else the newest `/var/lib/postgresql/*/main` on the host.
enum DataDirectory {
  static func resolve(_ parameter: String?, context: StepContext) async throws(StepFailure) -> String {
    if let parameter, !parameter.isEmpty { return parameter }
    if let database = context.environment.database,
      let connection = try? await PGConnection.connect(conninfo: database.conninfo(database: "postgres"))
    {
      let row = try? await connection.query("SELECT current_setting('data_directory') AS dir").first
      await connection.close()
      if let directory = row?["dir"], !directory.isEmpty { return directory }
    }
    let found = try await context.run(
      .argv(["sh", "-c", "ls -d /var/lib/postgresql/*/main 2>/dev/null | sort -V | tail -n 1"], timeout: .seconds(30)), quiet: true)
    let directory = found.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !directory.isEmpty else {
      throw StepFailure(.failed, "PostgreSQL does not answer and there is no /var/lib/postgresql/*/main: give the step a data_directory")
    }
    return directory
  }
}

/// A recovery target time as the operator writes it: ISO 8601 with a zone
/// (`2026-11-27T14:03:00Z`, `…+01:00`), or `YYYY-MM-DD HH:MM[:SS]` in the local
/// time of the machine running nexus-dr.
enum TargetTime {
  static func parse(_ text: String) -> Date? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let date = try? Date(trimmed, strategy: .iso8601) { return date }
    if let date = JournalTime.parse(trimmed) { return date }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = .current
    for format in ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss.SSS"] {
      formatter.dateFormat = format
      if let date = formatter.date(from: trimmed) { return date }
    }
    return nil
  }

  /// For PostgreSQL's `recovery_target_time`: UTC with microseconds and an explicit zone.
  static func postgres(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
    return formatter.string(from: date) + "+00"
  }
}
