import Foundation
import NexusBackup
import NexusCore
import NexusTestSupport
import Testing

@Suite("WAL archive")
struct WALArchiveTests {
  let scratch: ScratchDirectory
  let nas: String
  let fallback: String
  let mounted = Locked(true)

  init() throws {
    scratch = try ScratchDirectory("nexus-wal")
    nas = scratch.file("nas")
    fallback = scratch.file("fallback")
    try FileManager.default.createDirectory(atPath: nas + "/wal", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: fallback, withIntermediateDirectories: true)
  }

  /// The archive, with a mount table that shows the NAS mounted (as ext4) while `mounted` is true.
  var archive: WALArchive {
    let nas = self.nas
    let mounted = self.mounted
    return WALArchive(nasPath: nas, fallbackPath: fallback, fstype: "ext4") {
      mounted.value ? "36 25 8:1 / \(nas) rw,relatime - ext4 /dev/loop0 rw\n" : "25 1 8:1 / / rw - ext4 /dev/vda rw\n"
    }
  }

  func segment(_ name: String, _ content: String) throws -> String {
    let path = scratch.file("pg_wal-\(name)")
    try content.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("a segment is archived; an identical duplicate is success; a different one fails and keeps the original")
  func duplicates() throws {
    let name = "000000010000000000000001"
    #expect(archive.push(source: try segment(name, "first"), name: name).status == 0)
    #expect(try String(contentsOfFile: "\(nas)/wal/\(name)", encoding: .utf8) == "first")
    let again = archive.push(source: try segment(name, "first"), name: name)
    #expect(again.status == 0)
    #expect(again.message.contains("identical"))
    let different = archive.push(source: try segment(name + "x", "second"), name: name)
    #expect(different.status != 0)
    #expect(different.message.contains("different content"))
    #expect(try String(contentsOfFile: "\(nas)/wal/\(name)", encoding: .utf8) == "first")
  }

  @Test(
    "durableCopy: empty, small, and over a MiB — byte for byte; into a missing directory: an error",
    arguments: [0, 5, 3 * 1_048_576 + 17])
  func durableCopy(size: Int) throws {
    var generator = SplitMix(state: UInt64(size))
    let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let source = scratch.file("source-\(size)")
    try Data(bytes).write(to: URL(fileURLWithPath: source))
    let destination = scratch.file("copy-\(size)")
    try FileSystem.durableCopy(from: source, to: destination)
    #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data(bytes))
    #expect(throws: FileSystemError.self) { try FileSystem.durableCopy(from: source, to: scratch.file("missing/copy")) }
  }

  @Test("no temporary files are left behind")
  func noTemporaries() throws {
    let name = "000000010000000000000002"
    _ = archive.push(source: try segment(name, "x"), name: name)
    #expect(try FileManager.default.contentsOfDirectory(atPath: nas + "/wal") == [name])
  }

  @Test("with the NAS unmounted segments are spooled, then flushed in order when it is back")
  func spoolAndFlush() throws {
    mounted.withLock { $0 = false }
    let names = (3...6).map { String(format: "0000000100000000000000%02X", $0) }
    for name in names {
      let outcome = archive.push(source: try segment(name, name), name: name)
      #expect(outcome.status == 0)
      #expect(outcome.message.contains("spooled"))
    }
    #expect(archive.spooled() == names)
    #expect(try FileManager.default.contentsOfDirectory(atPath: nas + "/wal").isEmpty)
    mounted.withLock { $0 = true }
    let next = "000000010000000000000007"
    let outcome = archive.push(source: try segment(next, next), name: next)
    #expect(outcome.status == 0)
    #expect(outcome.message.contains("moved 4 spooled segments"))
    #expect(archive.spooled().isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: nas + "/wal").sorted() == names + [next])
  }

  @Test("a spooled segment moved to the NAS keeps the time it was spooled at, not the flush's")
  func flushKeepsTime() throws {
    mounted.withLock { $0 = false }
    let name = "000000010000000000000003"
    #expect(archive.push(source: try segment(name, name), name: name).status == 0)
    // Spooled two hours ago (the NAS was down that long).
    let spooledAt = Date().addingTimeInterval(-7200).timeIntervalSince1970.rounded()
    try FileManager.default.setAttributes(
      [.modificationDate: Date(timeIntervalSince1970: spooledAt)], ofItemAtPath: "\(archive.spoolDirectory)/\(name)")
    mounted.withLock { $0 = true }
    #expect(try archive.flushSpool() == 1)
    let archived = try FileManager.default.attributesOfItem(atPath: "\(nas)/wal/\(name)")[.modificationDate] as? Date
    #expect(archived?.timeIntervalSince1970.rounded() == spooledAt)
  }

  @Test("a wrong filesystem type counts as not mounted")
  func wrongFilesystem() throws {
    let nas = self.nas
    let archive = WALArchive(nasPath: nas, fallbackPath: fallback, fstype: "nfs4") {
      "36 25 8:1 / \(nas) rw - ext4 /dev/loop0 rw\n"
    }
    #expect(archive.nasProblem()?.contains("expected nfs4") == true)
  }

  @Test("fetch: found, missing (1), and NAS gone without a spooled copy (126)")
  func fetch() throws {
    let name = "000000010000000000000008"
    _ = archive.push(source: try segment(name, "eight"), name: name)
    let destination = scratch.file("RECOVERYXLOG")
    #expect(archive.fetch(name: name, destination: destination).status == 0)
    #expect(try String(contentsOfFile: destination, encoding: .utf8) == "eight")
    #expect(archive.fetch(name: "000000010000000000000009", destination: destination).status == 1)
    mounted.withLock { $0 = false }
    #expect(archive.fetch(name: "000000010000000000000009", destination: destination).status == 126)
  }

  @Test("names that are not WAL files are refused")
  func names() {
    #expect(WALArchive.isValidName("000000010000000000000001"))
    #expect(WALArchive.isValidName("00000002.history"))
    #expect(WALArchive.isValidName("000000010000000000000001.00000028.backup"))
    #expect(!WALArchive.isValidName("../../etc/passwd"))
    #expect(!WALArchive.isValidName("00000001000000000000000"))
  }

  @Test("mountinfo is read exactly, with escapes, the top mount winning")
  func mountinfo() {
    let table = "1 0 8:1 / /mnt/nas\\040backup rw - ext4 /dev/a rw\n2 1 8:2 / /mnt/nas\\040backup rw - nfs4 srv:/x rw\n"
    #expect(MountPoint.exactly(at: "/mnt/nas backup", mountinfo: table)?.fstype == "nfs4")
    #expect(MountPoint.exactly(at: "/mnt/nas", mountinfo: table) == nil)
  }
}
