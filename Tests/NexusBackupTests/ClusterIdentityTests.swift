import Foundation
import NexusBackup
import NexusCore
import NexusTestSupport
import Testing

/// The archive knows its cluster: segments carry their system identifier, `wal/.cluster` the
/// archive's. (The archive fixture is `WALArchiveTests`'.)
extension WALArchiveTests {
  /// A segment's first page as PostgreSQL writes it: the long header (XLP_LONG_HEADER) with
  /// the system identifier at byte 24 and the segment size at 32, then some bytes.
  func clusterSegment(_ name: String, cluster: UInt64, filler: UInt8 = 7) throws -> String {
    var bytes = [UInt8](repeating: 0, count: 64)
    bytes[0] = 0x10
    bytes[1] = 0xD1  // xlp_magic (PostgreSQL 15)
    bytes[2] = 0x02  // xlp_info: XLP_LONG_HEADER
    for index in 0..<8 { bytes[24 + index] = UInt8((cluster >> (8 * UInt64(index))) & 0xFF) }
    let size: UInt32 = 16 << 20
    for index in 0..<4 { bytes[32 + index] = UInt8((size >> (8 * UInt32(index))) & 0xFF) }
    bytes += [UInt8](repeating: filler, count: 64)
    let path = scratch.file("pg_wal-\(name)-\(cluster)")
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
  }

  @Test(
    "the first segment records the archive's cluster; another cluster's segment is refused naming both, nothing written"
  )
  func pushRefusesAnotherCluster() throws {
    let first = "000000010000000000000001"
    #expect(
      archive.push(source: try clusterSegment(first, cluster: 7_300_000_000_000_000_001), name: first).status == 0)
    #expect(ClusterIdentity.recorded(in: nas + "/wal") == 7_300_000_000_000_000_001)
    let second = "000000010000000000000002"
    let foreign = archive.push(source: try clusterSegment(second, cluster: 7_400_000_000_000_000_002), name: second)
    #expect(foreign.status == 1)
    #expect(
      foreign.message.contains("7400000000000000002") && foreign.message.contains("7300000000000000001"),
      "\(foreign.message)")
    #expect(!FileManager.default.fileExists(atPath: "\(nas)/wal/\(second)"))
    #expect(
      archive.push(source: try clusterSegment(second, cluster: 7_300_000_000_000_000_001), name: second).status == 0)
  }

  @Test("while the NAS is away another cluster's segments stay in the spool: the flush refuses to mix them in")
  func spoolOfAnotherCluster() throws {
    let first = "000000010000000000000001"
    #expect(archive.push(source: try clusterSegment(first, cluster: 11), name: first).status == 0)
    mounted.withLock { $0 = false }
    let spooled = "000000010000000000000005"
    let away = archive.push(source: try clusterSegment(spooled, cluster: 22), name: spooled)
    #expect(away.message.contains("spooled to"), "\(away.message)")
    mounted.withLock { $0 = true }
    let next = "000000010000000000000006"
    let outcome = archive.push(source: try clusterSegment(next, cluster: 22), name: next)
    #expect(outcome.status == 1, "\(outcome.message)")
    #expect(archive.spooled() == [spooled], "the spool keeps its segment")
    #expect(!FileManager.default.fileExists(atPath: "\(nas)/wal/\(spooled)"))
  }

  @Test("fetch stops recovery (126) on a segment of another cluster than the data directory's pg_control")
  func fetchChecksTheCluster() throws {
    let name = "000000010000000000000003"
    #expect(archive.push(source: try clusterSegment(name, cluster: 33), name: name).status == 0)
    let data = scratch.file("data")
    try FileManager.default.createDirectory(atPath: data + "/global", withIntermediateDirectories: true)
    var control = [UInt8](repeating: 0, count: 16)
    control[0] = 44
    FileManager.default.createFile(atPath: data + "/global/pg_control", contents: Data(control))
    let other = archive.fetch(name: name, destination: scratch.file("RECOVERYXLOG"), dataDirectory: data)
    #expect(other.status == 126)
    #expect(other.message.contains("33") && other.message.contains("44"), "\(other.message)")
    control[0] = 33
    FileManager.default.createFile(atPath: data + "/global/pg_control", contents: Data(control))
    #expect(archive.fetch(name: name, destination: scratch.file("RECOVERYXLOG"), dataDirectory: data).status == 0)
  }

  @Test("files that are not segments carry no identifier (history files, stand-in bytes)")
  func notSegments() throws {
    let path = scratch.file("00000002.history")
    try "1\t0/3000000\tno recovery target specified\n".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(ClusterIdentity.ofSegment(path) == nil)
    #expect(ClusterIdentity.ofSegment(try clusterSegment("x", cluster: 99)) == 99)
  }
}
