import Foundation
import Testing

@testable import NexusEngine

@Suite("Remote scripts embedded at build time")
struct RemoteScriptTests {
  static let folder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appending(path: "Sources/NexusEngine/RemoteScripts")

  @Test("each constant is its file, byte for byte, with the file's last newline (a prepended script must end its line)")
  func constantsAreTheFiles() throws {
    let pairs: [(String, String)] = [
      ("pgtool.sh", RemoteScript.pgtool),
      ("backup-base.sh", RemoteScript.backupBase),
      ("nas-copy-back.sh", RemoteScript.nasCopyBack),
      ("secrets-check.sh", RemoteScript.secretsCheck),
    ]
    for (file, constant) in pairs {
      let text = try String(contentsOf: Self.folder.appending(path: file), encoding: .utf8)
      #expect(constant == text, "\(file)")
      #expect(constant.hasSuffix("\n"), "\(file)")
    }
  }

  @Test("pgtool prepended to a script defines the function that script calls")
  func prependedLibraryStillParses() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-n", "-c", RemoteScript.pgtool + RemoteScript.pgVerifyAmcheck]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }

  @Test(
    "the one durable write: the content lands under the name, no staged copy is left, a missing directory fails and leaves nothing"
  )
  func durableWrite() throws {
    let directory = FileManager.default.temporaryDirectory.appending(path: "nexus-write-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    func write(_ path: String, _ text: String) throws -> Int32 {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-c", RemoteScript.durable + RemoteScript.writeFile, "write-file", path]
      let input = Pipe()
      process.standardInput = input
      process.standardError = FileHandle.nullDevice
      try process.run()
      input.fileHandleForWriting.write(Data(text.utf8))
      try input.fileHandleForWriting.close()
      process.waitUntilExit()
      return process.terminationStatus
    }
    let target = directory.appending(path: "manifest.json").path
    #expect(try write(target, "one") == 0)
    #expect(try write(target, "two") == 0)
    #expect(try String(contentsOfFile: target, encoding: .utf8) == "two")
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["manifest.json"])
    #expect(try write(directory.path + "/missing/file", "x") != 0)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["manifest.json"])
  }
}
