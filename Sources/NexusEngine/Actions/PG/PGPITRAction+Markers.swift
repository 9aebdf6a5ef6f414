import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// pg.pitr's markers in the data directory: what an attempt set aside and how far it got,
/// so that a rerun after a crash continues or reports instead of starting over.
extension PGPITRAction {
  struct Recovered: Codable {
    var run: String
    var step: String
    var outputs: [String: String]
  }

  /// Replaces the `recovering` marker by `recovered`, naming this run and step.
  func markRecovered(_ data: String, outputs: [String: String], context: StepContext) async throws(StepFailure) {
    let content =
      (try? JSONEncoder().encode(Recovered(run: context.runID, step: context.step.id, outputs: outputs))).map(
        Array.init) ?? []
    let written = try await context.run(
      HostCommandLines.writeFile("\(data)/\(Self.recovered)", content: content), quiet: true)
    guard written.succeeded else {
      throw StepFailure(.failed, "recovered, but \(data)/\(Self.recovered) could not be written: \(written.stderrTail)")
    }
    _ = try await context.run(
      .argv(["rm", "-f", "--", "\(data)/\(Self.recovering)", "\(data)/\(Self.extracting)"]), quiet: true)
  }

  /// The outputs recorded when this same run and step finished the recovery already (a rerun after a crash).
  func recoveredByThisRun(_ data: String, context: StepContext) async throws(StepFailure) -> [String: String]? {
    guard !context.runID.isEmpty else { return nil }
    let text = try await context.run(
      .argv(["sh", "-c", #"cat -- "$1" 2>/dev/null || true"#, "marker", "\(data)/\(Self.recovered)"]), quiet: true)
    guard let marker = try? JSONDecoder().decode(Recovered.self, from: Data(text.stdout)),
      marker.run == context.runID, marker.step == context.step.id
    else { return nil }
    return marker.outputs
  }

  /// What an attempt wrote into its marker: the damaged copy it set aside, the base backup, the target.
  struct Marker {
    var aside = ""
    var base = ""
    var target = ""
    var timeline = ""
  }

  /// `damaged` (a data directory without our marker), `extracting`, `recovering` or
  /// `absent`, and what the marker (or, when the directory is gone, the note left
  /// next to it before the move) says.
  func probe(_ data: String, context: StepContext) async throws(StepFailure) -> (state: String, marker: Marker) {
    let result = try await context.run(
      .argv(["sh", "-c", RemoteScript.pgPitrProbe, "probe", data, Self.extracting, Self.recovering]), quiet: true)
    let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let state = lines.first ?? ""
    guard result.succeeded, ["damaged", "extracting", "recovering", "absent"].contains(state) else {
      throw StepFailure(.failed, "cannot inspect \(data): \(result.stderrTail)")
    }
    let fields = Array(lines.dropFirst()) + ["", "", "", ""]
    return (
      state,
      Marker(
        aside: fields[0].trimmingCharacters(in: .whitespaces), base: fields[1], target: fields[2], timeline: fields[3])
    )
  }
}
