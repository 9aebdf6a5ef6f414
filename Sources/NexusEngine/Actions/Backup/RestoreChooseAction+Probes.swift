import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// What restore.choose asks of the server and the NAS besides the catalog.
extension RestoreChooseAction {
  static func ago(_ date: Date, _ now: Date) -> String {
    let seconds = max(0, now.timeIntervalSince(date))
    return seconds < 5400 ? "\(Int(seconds / 60)) min ago" : String(format: "%.1f h ago", seconds / 3600)
  }

  /// The newest dump whose size and sha256 match its manifest; each one that does not is said.
  static func newestIntactDump(_ dumps: DailyDumps, context: StepContext, notOffered: inout [String])
    async throws(StepFailure) -> (DailyDumps.Entry, DumpManifest)?
  {
    for entry in dumps.entries where entry.valid {
      guard let manifest = entry.manifest else { continue }
      let digest = try await context.run(
        .argv(["sha256sum", "--", "\(dumps.directory)/\(entry.name)"], timeout: .seconds(3600)), quiet: true)
      if digest.stdoutText.split(separator: " ").first.map(String.init) == manifest.sha256 { return (entry, manifest) }
      notOffered.append(
        "dump \(entry.name): its sha256 does not match its manifest (changed after it was written); trying the one before"
      )
    }
    return nil
  }

  static func serverAnswers(_ context: StepContext) async -> Bool {
    guard let database = context.environment.database else { return false }
    return (try? await PGConnection.with(conninfo: database.conninfo(database: "postgres")) { _ in true }) ?? false
  }

  /// The damaged database's size (what a logical restore puts next to it), if PostgreSQL answers.
  static func databaseSize(_ context: StepContext) async -> Int64? {
    guard let database = context.environment.database else { return nil }
    return try? await PGConnection.with(conninfo: database.conninfo(database: "postgres")) { connection in
      try await connection.query("SELECT pg_database_size(\(database.name))::bigint AS size").first?.decode(
        Int64.self, "size")
    }
  }

  /// Compressed bytes per second gunzip reads from the base backup's first 64 MiB, measured on the server now.
  static func decompressionRate(_ context: StepContext, base: NASCatalog.Base) async -> Double? {
    let clock = ContinuousClock()
    let start = clock.now
    guard
      let result = try? await context.run(
        HostCommand(
          .argv([
            "sh", "-c", #"head -c 67108864 "$1/base.tar.gz" | gzip -dc 2>/dev/null | wc -c"#, "measure", base.path,
          ]), timeout: .seconds(120)), quiet: true),
      result.succeeded
    else { return nil }
    let seconds = Double((clock.now - start).milliseconds) / 1000
    return seconds > 0 ? Double(min(base.bytes, 64 << 20)) / seconds : nil
  }
}
