import Foundation
import NexusBackup
import NexusCore
import NexusTransport

/// The dumps in a `daily/` directory with their manifests, read in one command on the host.
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

  static func load(_ context: StepContext, directory: String, prefix: String = "nexus") async throws(StepFailure) -> DailyDumps {
    let script = RemoteScript.dailyDumpsList
    let result = try await context.run(HostCommand(.argv(["sh", "-c", script, "daily", directory, prefix]), timeout: .seconds(120)), quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot list \(directory): \(result.stderrTail)") }
    var sizes: [String: Int64] = [:]
    var manifests: [String: DumpManifest] = [:]
    for line in result.stdoutText.split(separator: "\n") {
      let fields = line.split(separator: "\t", maxSplits: 2).map(String.init)
      guard fields.count == 3 else { continue }
      if fields[0] == "D", let size = Int64(fields[2]) { sizes[fields[1]] = size }
      if fields[0] == "M", let manifest = try? DumpManifest.decode(Data(fields[2].utf8)) { manifests[fields[1]] = manifest }
    }
    let entries = sizes.compactMap { name, size -> Entry? in
      guard let date = RetentionPlan.date(in: name, prefix: prefix, suffix: ".dump") else { return nil }
      return Entry(name: name, date: date, size: size, manifest: manifests[DumpManifest.name(forDump: name)])
    }.sorted { $0.date > $1.date }
    return DailyDumps(directory: directory, entries: entries)
  }
}
