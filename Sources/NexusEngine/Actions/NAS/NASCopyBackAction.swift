import Foundation
import NexusCore
import NexusTransport

/// `nas.copy-back`: after the NAS is back (repaired or replaced), everything the
/// routine wrote to the fallback while it was away goes to the NAS — the WAL
/// spool first, into `wal/`, in segment order, then every other file to the same
/// relative path. Each file is written under a temporary name, fsync'd, read back
/// from the disk (O_DIRECT, past the page cache) and compared by sha256 with the
/// fallback's copy, renamed into place, and only then is the fallback's copy
/// removed. Safe to repeat: a file already on the NAS with the same sha256 only
/// has its fallback copy removed. A different file of that name on the NAS is kept
/// as `NAME.replaced-TIME` (the fallback's is the newer: it was written while the
/// NAS was away) — except a WAL segment, where both are kept and the step fails.
public struct NASCopyBackAction: StepAction {
  public static let name = "nas.copy-back"
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {}

  public var declaredOutputs: Set<String>? { ["copied", "same", "replaced", "bytes"] }

  public func plan(_ context: PlanContext) -> [String] {
    let fallback = context.values.environment["nas.fallback"] ?? "the fallback"
    let nas = context.values.environment["nas.path"] ?? "the NAS"
    return [
      "check that \(nas) has room for everything in \(fallback) plus min_free",
      "\(fallback)/wal-spool/* → \(nas)/wal/ in segment order, then every other file of \(fallback) → the same path under \(nas)",
      "each: temporary name, fsync, read back past the cache and compared by sha256, rename; only then the fallback's copy is removed",
      "a different file of that name on the NAS is kept as NAME.replaced-<time>; a WAL segment that differs: both kept, the step fails",
    ]
  }

  public func probe(_ context: StepContext) async throws(StepFailure) -> [String] {
    guard let nas = context.environment.nas else { return [] }
    let listing = try await context.run(
      .argv(["sh", "-c", Self.survey, "survey", nas.fallback], timeout: .seconds(60)), quiet: true)
    return ["the fallback holds: \(listing.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))"]
  }

  /// What the fallback holds, one line: files per directory and the total.
  static let survey = RemoteScript.nasCopyBackSurvey

  static let script = RemoteScript.nasCopyBack

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else {
      throw StepFailure(.failed, "environment \(context.environment.name) has no nas section")
    }
    let room = try await context.run(
      HostCommand(
        .argv(["sh", "-c", RemoteScript.nasCopyBackRoom, "room", nas.fallback, nas.path]), timeout: .seconds(300)),
      quiet: true)
    let figures = room.stdoutText.split(separator: " ").compactMap {
      Int64($0.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    guard room.succeeded, figures.count == 2 else {
      throw StepFailure(.failed, "cannot measure \(nas.fallback) and the free space on \(nas.path): \(room.stderrTail)")
    }
    guard figures[0] + nas.minFree.bytes <= figures[1] else {
      throw StepFailure(
        .failed,
        "\(nas.path) has \(ByteSize(bytes: figures[1])) free; the fallback holds \(ByteSize(bytes: figures[0])) and min_free is \(nas.minFree): nothing was copied"
      )
    }
    // Test-only: NEXUS_DR_CRASH_AT=STEP:mid-copy stops after two files, with the third
    // copied and verified but its fallback copy not yet removed, then dies like kill -9.
    let stopAfter = FaultInjection.target == "\(context.step.id):mid-copy" ? 2 : 0
    let stamp = JournalTime.compact(Date())
    let result = try await context.run(
      HostCommand(
        .argv(["bash", "-c", Self.script, "copy-back", nas.fallback, nas.path, stamp, String(stopAfter)]),
        timeout: context.timeout))
    if result.exitCode == 99 { FaultInjection.crashIfRequested(step: context.step.id, phase: "mid-copy") }
    let summary = result.stdoutText.firstMatch(
      of: #/summary copied=([0-9]+) same=([0-9]+) replaced=([0-9]+) bytes=([0-9]+)/#)
    guard result.succeeded, let summary else {
      throw StepFailure(
        .failed,
        "copying the fallback back to the NAS stopped (\(result.termination)); what was verified is on the NAS and gone from the fallback, the rest is still in the fallback; run the step again once the cause is fixed:\n  \(result.stderrTail.suffix(600))\(result.stdoutText.contains("conflict") ? "\n  " + result.stdoutText.split(separator: "\n").filter { $0.hasPrefix("conflict") }.joined(separator: "\n  ") : "")",
        exitStatus: result.exitCode)
    }
    let bytes = Int64(summary.output.4) ?? 0
    context.console.line(
      "    \(summary.output.1) file(s) copied and verified (\(ByteSize(bytes: bytes))), \(summary.output.2) already there, \(summary.output.3) replaced (kept as .replaced-\(stamp))"
    )
    return StepResult(
      outputs: [
        "copied": String(summary.output.1), "same": String(summary.output.2), "replaced": String(summary.output.3),
        "bytes": String(bytes),
      ],
      exitStatus: 0, bytes: bytes)
  }
}
