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
}
