import Foundation
import NexusCore
import NexusTestSupport
import SystemPackage
import Testing

@Suite("POSIX durable write")
struct DurableWriteTests {
  let scratch: ScratchDirectory

  init() throws {
    scratch = try ScratchDirectory("nexus-posix")
  }

  func entries() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
  }

  func mode(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
  }

  @Test(
    "the file holds exactly the bytes written: empty, small, over a MiB, not UTF-8",
    arguments: [0, 5, 3 * 1_048_576 + 17])
  func content(size: Int) throws {
    let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let path = scratch.file("state.json")
    try POSIX.durableWrite(bytes, to: path)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    #expect(try entries() == ["state.json"])
  }

  @Test("the file gets exactly the permissions asked for, whatever the umask", arguments: [0o600, 0o644, 0o666])
  func permissions(mode: Int) throws {
    let path = scratch.file("file")
    try POSIX.durableWrite(Array("x\n".utf8), to: path, permissions: FilePermissions(rawValue: .init(mode)))
    #expect(try self.mode(path) == mode)
  }

  @Test("0600 by default, also when the file it replaces was readable by others")
  func defaultIsPrivate() throws {
    let path = try scratch.write("report.md", "old\n", mode: 0o644)
    try POSIX.durableWrite(Array("new\n".utf8), to: path)
    #expect(try mode(path) == 0o600)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
  }

  @Test("a replaced file holds the new content, and no temporary file is left beside it")
  func replaces() throws {
    let path = try scratch.write("runbook.yaml", "old content\n")
    try POSIX.durableWrite(Array("new content\n".utf8), to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "new content\n")
    #expect(try entries() == ["runbook.yaml"])
  }

  struct Refused: Error {}

  @Test("when the content cannot be produced, the old file stays as it was and the temporary file goes")
  func failingFill() throws {
    let path = try scratch.write("copy.bin", "original\n")
    #expect(throws: Refused.self) {
      let refuse = { (_: FileSystemError) in Refused() }
      try POSIX.durableWrite(to: path, failure: refuse) { (file: FileDescriptor) throws(Refused) in
        _ = try? file.writeAll(Array("half of the new".utf8))
        throw Refused()
      }
    }
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "original\n")
    #expect(try entries() == ["copy.bin"])
  }

  @Test("what the content closure returns is returned; it writes under the temporary name asked for")
  func temporaryName() throws {
    let path = scratch.file("download.bin")
    let temporary = path + ".nexus-dr-partial"
    let seen = try POSIX.durableWrite(to: path, temporary: temporary) {
      (file: FileDescriptor) throws(FileSystemError) -> Bool in
      _ = try? file.writeAll(Array("abc".utf8))
      return FileManager.default.fileExists(atPath: temporary) && !FileManager.default.fileExists(atPath: path)
    }
    #expect(seen)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "abc")
    #expect(try entries() == ["download.bin"])
  }

  @Test("a temporary file a killed writer left behind is replaced, not written into")
  func leftoverTemporary() throws {
    let path = scratch.file("journal-copy")
    let leftover = try scratch.write(
      (POSIX.temporaryPath(for: path) as NSString).lastPathComponent, "stale bytes of a killed run, longer\n")
    #expect(leftover == POSIX.temporaryPath(for: path))
    try POSIX.durableWrite(Array("fresh\n".utf8), to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "fresh\n")
    #expect(try entries() == ["journal-copy"])
  }

  @Test("into a missing directory: an error naming the operation, the path and the reason")
  func missingDirectory() throws {
    let path = scratch.file("no-such-directory/state.json")
    do {
      try POSIX.durableWrite(Array("x".utf8), to: path)
      Issue.record("wrote into a missing directory")
    } catch {
      #expect(error.operation == "create")
      #expect(error.errno == .noSuchFileOrDirectory)
      #expect(error.path == POSIX.temporaryPath(for: path))
      #expect(error.description.contains(scratch.file("no-such-directory/")))
      #expect(error.description.hasSuffix(": No such file or directory"))
    }
    #expect(try entries() == [])
  }

  @Test("a relative path is written in the current directory's terms")
  func relativePath() {
    #expect(POSIX.directory(of: "state.json") == ".")
    #expect(POSIX.temporaryPath(for: "state.json") == "./.state.json.tmp.\(POSIX.processID)")
    #expect(POSIX.directory(of: "pg_wal/RECOVERYXLOG") == "pg_wal")
    #expect(
      POSIX.temporaryPath(for: "/var/lib/nexus-dr/runs/x/report.md")
        == "/var/lib/nexus-dr/runs/x/.report.md.tmp.\(POSIX.processID)")
  }
}
