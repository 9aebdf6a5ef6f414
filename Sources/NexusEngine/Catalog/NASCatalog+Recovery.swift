import Foundation
import NexusBackup
import NexusCore
import NexusTransport

/// What the catalog says about point-in-time recovery: the WAL chain from a base backup
/// along a timeline, and the base backup that can reach one.
extension NASCatalog {
  /// The first root's free bytes (the NAS's, where a logical restore's WAL is archived).
  var nasAvailable: Int64? { roots.first?.available }

  /// A restore source on the NAS while the NAS is not mounted: the files are not gone, the
  /// mount is. Fails the step with that (before anything is changed) instead of letting the
  /// empty directory underneath read as "no such backup".
  static func requireMountedNAS(holding path: String, context: StepContext) async throws(StepFailure) {
    guard let nas = context.environment.nas, path == nas.path || path.hasPrefix(nas.path + "/") else { return }
    let mounted = try await context.run(
      HostCommand(.argv(["findmnt", "--noheadings", "--mountpoint", nas.path]), timeout: .seconds(30)), quiet: true)
    guard !mounted.succeeded else { return }
    throw StepFailure(
      .failed,
      "the NAS is not mounted at \(nas.path) (\(path) is on it); this step changed nothing. Mount the NAS, then: nexus-dr resume"
    )
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
      (before.map { base.finishedAt < $0 } ?? true)
        && timelines.unreachable(from: base.startSegment, along: timeline) == nil
    }
  }

  /// When the segment was archived (the newest copy, if the NAS and the spool both hold it).
  func archivedAt(_ name: String) -> Date? {
    segments.filter { $0.name == name }.map(\.archivedAt).max()
  }

  /// Bytes of WAL from the base backup's start to the end of its unbroken chain.
  func walBytes(_ chain: WALChain) -> Int64 {
    guard let first = WALChain.number(chain.start), let last = chain.last.flatMap(WALChain.number), last >= first else {
      return 0
    }
    return Int64(last - first + 1) * 16 << 20
  }
}
