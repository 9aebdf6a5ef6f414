import Foundation

/// A temporary directory for one test, removed when the test's value goes away.
public final class ScratchDirectory: Sendable {
  public let path: String

  public init(_ label: String = "nexus-dr-test") throws {
    let base = FileManager.default.temporaryDirectory.path
    path = "\(base)/\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
  }

  public func file(_ name: String) -> String { "\(path)/\(name)" }

  public func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
    let target = file(name)
    try text.write(toFile: target, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target)
    return target
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The built `nexus-dr` executable, beside the test bundle in the build folder.
public enum BuiltTool {
  public static var path: String {
    if let override = ProcessInfo.processInfo.environment["NEXUS_DR_BIN"] { return override }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
      let candidate = directory.appendingPathComponent("nexus-dr").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      directory.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nexus-dr")
      .path
  }
}
