import Foundation
import NexusCore
import NexusTransport

/// What one point-in-time recovery took, kept in `restore-test/pitr-<time>.json`
/// on the NAS so that the next estimate rests on a measurement.
struct PITRTiming: Codable, Sendable {
  var base: String
  var baseBytes: Int64
  var extractMs: Int64
  var walBytes: Int64
  var recoveryMs: Int64
  var targetTime: String?
  var recoveredTo: String?
  var timeline: Int
  var finishedAt: String

  enum CodingKeys: String, CodingKey {
    case base, timeline
    case baseBytes = "base_bytes"
    case extractMs = "extract_ms"
    case walBytes = "wal_bytes"
    case recoveryMs = "recovery_ms"
    case targetTime = "target_time"
    case recoveredTo = "recovered_to"
    case finishedAt = "finished_at"
  }
}

/// Restore-time estimates from the last measured runs on this site: the weekly
/// restore test (a logical restore of a dump, with its verification) and the
/// last point-in-time recovery. Without a measurement, the estimate says what it
/// assumed.
struct RestoreEstimates {
  var restoreTest: RestoreVerification?
  var pitr: PITRTiming?

  init(restoreTest: RestoreVerification? = nil, pitr: PITRTiming? = nil) {
    self.restoreTest = restoreTest
    self.pitr = pitr
  }

  /// From the catalog's restore-test results: the newest passed test that measured its dump.
  init(_ catalog: NASCatalog) {
    restoreTest = catalog.restoreResults.lazy
      .compactMap { try? JSONDecoder().decode(RestoreVerification.self, from: $0.json) }
      .first { $0.passed && $0.dumpBytes != nil }
    pitr = catalog.pitrResult.flatMap { try? JSONDecoder().decode(PITRTiming.self, from: $0) }
  }

  /// A logical restore of `dumpBytes` plus its verification.
  func logical(dumpBytes: Int64) -> (seconds: Double, basis: String) {
    if let test = restoreTest, let measured = test.dumpBytes, measured > 0, let restore = test.timingsMs["restore"] {
      let verify = (test.timingsMs["counts"] ?? 0) + (test.timingsMs["amcheck"] ?? 0)
      let scale = Double(dumpBytes) / Double(measured)
      return (Double(restore + verify) / 1000 * scale, "scaled from the restore test of \(test.startedAt.prefix(10))")
    }
    return (Double(dumpBytes) / 40e6, "assumed 40 MB/s of dump: no restore test measured yet")
  }

  /// Extracting a base backup of `baseBytes` and replaying `walBytes` of WAL, plus verification.
  func pointInTime(baseBytes: Int64, walBytes: Int64, decompressRate: Double?) -> (seconds: Double, basis: String) {
    let verify = restoreTest.map { Double(($0.timingsMs["amcheck"] ?? 0)) / 1000 } ?? 0
    if let last = pitr, last.baseBytes > 0 {
      let extract = Double(last.extractMs) / 1000 * Double(baseBytes) / Double(last.baseBytes)
      let replay = Double(last.recoveryMs) / 1000 * Double(walBytes) / Double(max(last.walBytes, 16 << 20))
      return (extract + replay + verify, "scaled from the recovery of \(last.finishedAt.prefix(10))")
    }
    // Extraction writes ~3× the compressed bytes; replay assumed at 50 MB/s of WAL.
    let rate = decompressRate ?? 30e6
    let extract = Double(baseBytes) / rate * 1.5
    let replay = Double(walBytes) / 50e6
    return (
      extract + replay + verify,
      decompressRate == nil
        ? "assumed: no recovery measured yet"
        : "decompression measured now; WAL replay assumed at 50 MB/s (no recovery measured yet)"
    )
  }
}

extension DurationText {
  static func about(_ seconds: Double) -> String {
    format(.seconds(max(5, Int64(seconds.rounded(.up)))))
  }
}
