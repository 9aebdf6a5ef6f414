import Foundation
import NexusCore
import NexusTestSupport
import SystemPackage
import Testing

@Suite("POSIX files, locks and addresses")
struct POSIXFilesTests {
  let scratch: ScratchDirectory

  init() throws {
    scratch = try ScratchDirectory("nexus-posix")
  }

  @Test("copyContents falls back to reads and writes where sendfile gives nothing (a /proc file: size 0, content)")
  func copyFromPseudoFile() throws {
    let input = try FileDescriptor.open("/proc/self/mountinfo", .readOnly)
    defer { try? input.close() }
    let target = scratch.file("mountinfo")
    try POSIX.durableWrite(to: target) { (output: FileDescriptor) throws(FileSystemError) in
      try POSIX.copyContents(from: input, at: "/proc/self/mountinfo", size: 0, to: output, at: target)
    }
    let copied = try String(contentsOfFile: target, encoding: .utf8)
    #expect(copied.contains(" - "), "mountinfo lines: \(copied.prefix(200))")
  }

  @Test("copyContents into a read-only descriptor fails naming the output")
  func copyFailureNamesOutput() throws {
    let source = try scratch.write("source", String(repeating: "wal", count: 1000))
    let input = try FileDescriptor.open(source, .readOnly)
    defer { try? input.close() }
    let output = try FileDescriptor.open(source, .readOnly)
    defer { try? output.close() }
    #expect {
      try POSIX.copyContents(from: input, at: source, size: 3000, to: output, at: "/the/output")
    } throws: { error in
      (error as? FileSystemError).map { $0.operation == "write" && $0.path == "/the/output" } ?? false
    }
  }

  @Test("an exclusive flock keeps a second open of the file out until it is released; shared ones coexist")
  func locks() throws {
    let path = try scratch.write("lab.lock", "")
    let first = try FileDescriptor.open(path, .readWrite)
    let second = try FileDescriptor.open(path, .readOnly)
    let third = try FileDescriptor.open(path, .readOnly)
    defer {
      try? first.close()
      try? second.close()
      try? third.close()
    }
    #expect(try POSIX.tryLock(first, .exclusive))
    #expect(try !POSIX.tryLock(second, .shared))
    #expect(try !POSIX.tryLock(second, .exclusive))
    POSIX.unlock(first)
    #expect(try POSIX.tryLock(second, .shared))
    #expect(try POSIX.tryLock(first, .shared))
    #expect(try !POSIX.tryLock(third, .exclusive))
  }

  @Test("replaceContents rewrites a file in place: same inode, new bytes, nothing of the old left")
  func replaceInPlace() throws {
    let path = try scratch.write("holder", String(repeating: "a much longer previous holder ", count: 10))
    let before = try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)
    let file = try FileDescriptor.open(path, .readWrite)
    defer { try? file.close() }
    try POSIX.replaceContents(of: file, with: Array("{\"pid\":1}".utf8))
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"pid\":1}")
    #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == before)
  }

  @Test("sync of a directory and of a file; of a missing path, an open error naming it")
  func syncPaths() throws {
    let file = try scratch.write("segment", "x")
    try POSIX.sync(path: scratch.path, directory: true)
    try POSIX.sync(path: file)
    #expect {
      try POSIX.sync(path: file, directory: true)
    } throws: { error in
      (error as? FileSystemError).map { $0.operation == "open" && $0.errno == .notDirectory } ?? false
    }
    #expect {
      try POSIX.sync(path: scratch.file("missing"))
    } throws: { error in
      (error as? FileSystemError).map { $0.path == scratch.file("missing") && $0.errno == .noSuchFileOrDirectory }
        ?? false
    }
  }

  @Test("numeric addresses resolve to themselves, without DNS", arguments: ["127.0.0.1", "::1"])
  func numericAddresses(address: String) throws {
    let addresses = try POSIX.streamAddresses(of: address, port: 22)
    #expect(!addresses.isEmpty)
    #expect(addresses.allSatisfy { $0.numericHost == address })
  }

  @Test("a closed local port refuses at once: connect fails with ECONNREFUSED, not a timeout")
  func refused() throws {
    let addresses = try POSIX.streamAddresses(of: "127.0.0.1", port: 1)
    #expect {
      _ = try POSIX.connect(to: addresses, deadline: .now + .seconds(5)) { _ in }
    } throws: { error in
      guard case .failed(let reason) = error as? POSIX.ConnectError else { return false }
      return reason == .connectionRefused
    }
  }
}
