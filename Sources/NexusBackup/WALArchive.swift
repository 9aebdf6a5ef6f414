import Foundation
import NexusCore

/// PostgreSQL's `archive_command` and `restore_command`, done right.
///
/// `push` copies a segment durably into `wal/` on the NAS; an identical existing
/// segment is success, a different one is an error that keeps the original.
/// While the NAS is not mounted (or is full), segments go to a spool directory
/// on the server's fallback, and the next push with the NAS back moves the spool
/// over first, oldest first, so the archive has no gap.
public struct WALArchive: Sendable {
  public var nasPath: String
  public var fallbackPath: String
  /// The filesystem type the NAS mount must have; any when nil.
  public var fstype: String?
  /// The mount table (`/proc/self/mountinfo`); replaceable so tests can describe mounts.
  public var mountTable: @Sendable () -> String

  public init(
    nasPath: String, fallbackPath: String, fstype: String?,
    mountTable: @escaping @Sendable () -> String = {
      (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    }
  ) {
    self.nasPath = nasPath
    self.fallbackPath = fallbackPath
    self.fstype = fstype
    self.mountTable = mountTable
  }

  public var archiveDirectory: String { nasPath + "/wal" }
  public var spoolDirectory: String { fallbackPath + "/wal-spool" }

  /// Outcome of a push or fetch: the exit status for PostgreSQL and a line for its log.
  public struct Outcome: Sendable, Equatable {
    public var status: Int32
    public var message: String
  }

  /// Why the NAS cannot take a segment now, or nil when it can.
  public func nasProblem() -> String? {
    guard let mount = MountPoint.exactly(at: nasPath, mountinfo: mountTable()) else {
      return "\(nasPath) is not a mount point (the NAS is not mounted)"
    }
    if let fstype, mount.fstype != fstype {
      return "\(nasPath) is mounted as \(mount.fstype), expected \(fstype)"
    }
    if !FileSystem.exists(archiveDirectory) {
      // A mounted NAS without wal/ yet (a new or replaced NAS): create it.
      do { try FileSystem.makeDirectory(archiveDirectory) } catch {
        return "\(archiveDirectory) does not exist and cannot be created: \(error)"
      }
    }
    guard POSIX.isAccessible(archiveDirectory, .write) else { return "\(archiveDirectory) is not writable" }
    return nil
  }

  /// Segment names PostgreSQL archives: segments, timeline history, backup labels, partial segments.
  public static func isValidName(_ name: String) -> Bool {
    name.wholeMatch(of: #/[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?|[0-9A-F]{8}\.history/#) != nil
  }

  public func push(source: String, name: String) -> Outcome {
    guard Self.isValidName(name) else { return Outcome(status: 2, message: "refusing '\(name)': not a WAL file name") }
    guard FileSystem.exists(source) else { return Outcome(status: 2, message: "\(source) does not exist") }
    if let problem = nasProblem() {
      return spool(source: source, name: name, reason: problem)
    }
    let cluster = ClusterIdentity.ofSegment(source)
    if let refusal = foreignCluster(cluster, name: name) {
      return refusal
    }
    var flushed = 0
    do { flushed = try flushSpool() } catch let conflict as ConflictError {
      // A spooled segment differs from the archived one: stop, loudly, as for any conflict.
      return Outcome(status: 1, message: conflict.message)
    } catch {
      // The NAS looked fine but refused the spool: keep spooling, in order.
      return spool(source: source, name: name, reason: "flushing the spool failed: \(error)")
    }
    let destination = "\(archiveDirectory)/\(name)"
    if let cluster, ClusterIdentity.recorded(in: archiveDirectory) == nil {
      do { try ClusterIdentity.record(cluster, in: archiveDirectory) } catch {
        return spool(source: source, name: name, reason: "cannot record the archive's cluster: \(error)")
      }
    }
    let outcome = store(source: source, destination: destination)
    if outcome.status != 0, FileSystem.exists(source), !FileSystem.exists(destination) {
      return spool(source: source, name: name, reason: outcome.message)
    }
    if flushed > 0, outcome.status == 0 {
      return Outcome(
        status: 0,
        message: outcome.message + "; moved \(flushed) spooled segment\(flushed == 1 ? "" : "s") to the NAS first")
    }
    return outcome
  }

  /// Copies into `destination` unless an identical file is there; a different file is an error.
  func store(source: String, destination: String, keepingTime: Bool = false) -> Outcome {
    if FileSystem.exists(destination) {
      do {
        if try FileSystem.sameContent(source, destination) {
          try FileSystem.syncFile(destination)
          try FileSystem.syncDirectory((destination as NSString).deletingLastPathComponent)
          return Outcome(status: 0, message: "\(destination) already archived with identical content")
        }
        return Outcome(
          status: 1,
          message:
            "\(destination) already exists with different content; the archived copy is kept. Investigate before archiving continues (two servers archiving into one NAS?)"
        )
      } catch {
        return Outcome(status: 1, message: "cannot compare with or sync \(destination): \(error)")
      }
    }
    do {
      try FileSystem.durableCopy(from: source, to: destination, keepingTime: keepingTime)
      return Outcome(status: 0, message: "archived to \(destination)")
    } catch {
      return Outcome(status: 1, message: "cannot archive to \(destination): \(error)")
    }
  }

  /// A refusal when `cluster` (the segment's) is not the one the archive records; nil when it
  /// is, when nothing is recorded yet, or when the file carries no identifier (not a segment).
  func foreignCluster(_ cluster: UInt64?, name: String) -> Outcome? {
    guard let cluster, let recorded = ClusterIdentity.recorded(in: archiveDirectory), recorded != cluster else {
      return nil
    }
    return Outcome(
      status: 1,
      message: """
        refusing \(name): it is WAL of the cluster with system identifier \(cluster), and the archive \(archiveDirectory) belongs to the cluster \(recorded) \
        (\(archiveDirectory)/\(ClusterIdentity.fileName)). Nothing was written; PostgreSQL keeps the segment and retries. \
        A new cluster (a logical restore onto a fresh install, another environment using this NAS) needs an archive of its own: \
        see 'The archive knows its cluster' in docs/nas.md
        """)
  }

  func spool(source: String, name: String, reason: String) -> Outcome {
    do { try FileSystem.makeDirectory(spoolDirectory) } catch {
      return Outcome(
        status: 1, message: "NAS unavailable (\(reason)) and cannot create the spool \(spoolDirectory): \(error)")
    }
    let outcome = store(source: source, destination: "\(spoolDirectory)/\(name)")
    guard outcome.status == 0 else {
      return Outcome(
        status: outcome.status, message: "NAS unavailable (\(reason)); spooling failed too: \(outcome.message)")
    }
    return Outcome(status: 0, message: "NAS unavailable (\(reason)); spooled to \(spoolDirectory)/\(name)")
  }

  /// Spooled segments, oldest first (WAL names sort in order).
  public func spooled() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory)) ?? [])
      .filter(Self.isValidName).sorted()
  }

  /// Moves every spooled segment to the NAS, oldest first, each verified before
  /// its spool copy is removed. Stops at the first failure, keeping the order.
  @discardableResult
  public func flushSpool() throws -> Int {
    var moved = 0
    for name in spooled() {
      let source = "\(spoolDirectory)/\(name)"
      // Spooled while the NAS was away, unchecked: each segment meets the archive's cluster here.
      if let cluster = ClusterIdentity.ofSegment(source) {
        if let archived = ClusterIdentity.recorded(in: archiveDirectory), archived != cluster {
          throw ConflictError(
            message:
              "spooled \(name) is WAL of the cluster \(cluster), the archive \(archiveDirectory) belongs to the cluster \(archived): not moved; the spool keeps it (\(source)). Investigate before archiving continues."
          )
        }
        if ClusterIdentity.recorded(in: archiveDirectory) == nil {
          try ClusterIdentity.record(cluster, in: archiveDirectory)
        }
      }
      // The segment's own time (when it was spooled), not the flush's: archivedAt and the loss windows read it.
      let outcome = store(source: source, destination: "\(archiveDirectory)/\(name)", keepingTime: true)
      if outcome.status != 0, outcome.message.contains("different content") {
        throw ConflictError(
          message:
            "spooled \(name) differs from the archived copy; both are kept (\(source)). Investigate before archiving continues."
        )
      }
      guard outcome.status == 0 else { throw FlushError(message: outcome.message) }
      guard try FileSystem.sameContent(source, "\(archiveDirectory)/\(name)") else {
        throw FlushError(message: "\(archiveDirectory)/\(name) does not match the spooled copy")
      }
      try? POSIX.remove(source)
      moved += 1
    }
    if moved > 0 { try? FileSystem.syncDirectory(spoolDirectory) }
    return moved
  }

  struct ConflictError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  struct FlushError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  /// `restore_command`: 0 found and copied; 1 not archived (normal at the end of
  /// recovery); 126 an error, which makes PostgreSQL stop recovery rather than
  /// end it early and lose what it could not read.
  public func fetch(name: String, destination: String, dataDirectory: String = ".") -> Outcome {
    guard Self.isValidName(name) else {
      return Outcome(status: 126, message: "refusing '\(name)': not a WAL file name")
    }
    // Reading needs the mount and the directory, not write access (a NAS mounted read-only for a restore).
    var nasProblem: String?
    if let mount = MountPoint.exactly(at: nasPath, mountinfo: mountTable()) {
      if let fstype, mount.fstype != fstype {
        nasProblem = "\(nasPath) is mounted as \(mount.fstype), expected \(fstype)"
      } else if !POSIX.isAccessible(archiveDirectory, [.read, .execute]) {
        nasProblem = "\(archiveDirectory) is not readable"
      }
    } else {
      nasProblem = "\(nasPath) is not a mount point (the NAS is not mounted)"
    }
    var candidates: [String] = []
    if nasProblem == nil { candidates.append("\(archiveDirectory)/\(name)") }
    candidates.append("\(spoolDirectory)/\(name)")
    for candidate in candidates where FileSystem.exists(candidate) {
      // restore_command runs in the data directory being recovered: its pg_control names the
      // cluster. A segment of another cluster would be refused by PostgreSQL anyway, with a
      // message that does not say which archive is mixed; say it here and stop recovery.
      if let segment = ClusterIdentity.ofSegment(candidate), let own = ClusterIdentity.ofDataDirectory(dataDirectory),
        segment != own
      {
        return Outcome(
          status: 126,
          message:
            "\(candidate) is WAL of the cluster \(segment), not of this one (\(own), \(dataDirectory)/global/pg_control): the archive holds another cluster's WAL; stopping recovery"
        )
      }
      try? POSIX.remove(destination)
      do {
        try FileSystem.durableCopy(from: candidate, to: destination)
        return Outcome(status: 0, message: "restored \(name) from \(candidate)")
      } catch {
        return Outcome(status: 126, message: "cannot restore \(name) from \(candidate): \(error)")
      }
    }
    if let nasProblem {
      return Outcome(
        status: 126, message: "cannot look for \(name): \(nasProblem); stopping recovery rather than ending it early")
    }
    return Outcome(status: 1, message: "\(name) is not archived")
  }
}
