import Foundation
import NexusBackup
import Testing

@testable import NexusEngine

/// nas-catalog.sh run by real bash over a real directory tree, read by NASCatalog.parse.
@Suite("The NAS catalog, read from a real directory tree")
struct NASCatalogScriptTests {
  let root: URL
  let fallback: URL

  init() throws {
    let scratch = FileManager.default.temporaryDirectory.appending(path: "nexus-catalog-\(UUID().uuidString)")
    root = scratch.appending(path: "nas")
    fallback = scratch.appending(path: "fallback")
    let files: [(String, String)] = [
      ("nas/daily/nexus_20261130.dump", "0123456789"),
      ("nas/daily/nexus_20261130.manifest.json", Self.manifest(file: "nexus_20261130.dump", size: 10)),
      ("nas/daily/nexus_20261201.dump", "01234"),
      ("nas/daily/nexus_20261201.manifest.json", Self.manifest(file: "nexus_20261201.dump", size: 99)),
      ("nas/daily/.nexus_20261202.dump.partial", "x"),
      (
        "nas/base/20261122/backup_manifest",
        #"{ "Files": [ { "Size": 100 }, { "Size": 23 } ], "WAL-Ranges": [ { "Timeline": 1, "Start-LSN": "0/9000028" } ] }"#
      ),
      ("nas/base/20261129/base.tar.gz", "partial"),
      ("nas/wal/000000010000000000000009", "w"),
      ("nas/wal/.cluster", "7443210987654321098\n"),
      ("nas/wal/00000002.history", "1\t0/A000100\tbefore 2026-11-22\n"),
      ("nas/restore-test/result-20261129.json", #"{"passed": true}"#),
      ("nas/config/20261201T020000Z/server/etc/hostname", "nexus-server"),
      ("nas/config/20261202T020000Z/gate/etc/hostname", "nexus-gate"),
      ("fallback/daily/nexus_20261202.dump", "abc"),
      ("fallback/wal-spool/00000001000000000000000A", "s"),
      ("fallback/wal-spool/.00000001000000000000000B.partial", "s"),
    ]
    for (path, text) in files {
      let url = scratch.appending(path: path)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(text.utf8).write(to: url)
    }
    // A link in daily/ is not a dump (the old listing's find -type f skipped it too).
    try FileManager.default.createSymbolicLink(
      atPath: root.appending(path: "daily/nexus_20261129.dump").path, withDestinationPath: "nexus_20261130.dump")
  }

  static func manifest(file: String, size: Int64) -> String {
    let manifest = DumpManifest(
      format: 1, database: "nexus", file: file, sizeBytes: size, sha256: "x", tables: [:], totalRows: 0, snapshot: "",
      walLSN: "0/0", startedAt: "2026-11-30T02:00:00Z", finishedAt: "2026-11-30T02:01:00Z", durationMs: 0,
      serverVersion: "15", pgDumpVersion: "15", compression: 3, verifiedWith: "pg_restore --list", host: "nexus-server",
      globals: nil)
    return String(decoding: (try? JSONEncoder().encode(manifest)) ?? Data(), as: UTF8.self)
  }

  func catalog() throws -> NASCatalog {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [
      "-c", RemoteScript.nasCatalog, "nas-catalog", fallback.path + "/wal-spool", "", root.path, fallback.path,
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return NASCatalog.parse(String(decoding: data, as: UTF8.self))
  }

  @Test(
    "dumps by root with their manifests; base backups, complete or not; WAL, spool, history, cluster, results, config parts"
  )
  func everythingInOneListing() throws {
    let catalog = try catalog()
    #expect(catalog.roots.map(\.path) == [root.path, fallback.path])
    #expect(catalog.roots.allSatisfy { $0.available != nil })
    let daily = catalog.daily(in: root.path)
    #expect(
      daily.entries.map(\.name) == ["nexus_20261201.dump", "nexus_20261130.dump"],
      "newest first; the partial and the link are no dumps")
    #expect(daily.entries.map(\.valid) == [false, true], "a manifest whose size differs does not make a dump valid")
    #expect(catalog.daily(in: fallback.path).entries.map(\.name) == ["nexus_20261202.dump"])
    #expect(catalog.bases.map(\.name) == ["20261122"])
    #expect(catalog.bases.first?.dataBytes == 123)
    #expect(catalog.bases.first?.startSegment == "000000010000000000000009")
    #expect(catalog.incompleteBases.map(\.name) == ["20261129"])
    #expect(catalog.archiveCluster == "7443210987654321098")
    #expect(catalog.histories[2]?.parent == 1)
    #expect(
      Set(catalog.segments.map(\.name)) == ["000000010000000000000009", "00000002.history", "00000001000000000000000A"])
    #expect(catalog.spooledSegments == 1, "the spool's dot-file is a copy in progress, not a segment")
    #expect(catalog.restoreResults.count == 1)
    #expect(catalog.newestConfigSnapshot(of: .server, in: root.path) == root.path + "/config/20261201T020000Z/server")
    #expect(catalog.newestConfigSnapshot(of: .gate, in: root.path) == root.path + "/config/20261202T020000Z/gate")
  }
}
