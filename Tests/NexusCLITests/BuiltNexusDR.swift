import Foundation
import NexusTestSupport
import NexusTransport

/// The built `nexus-dr`, run as an operator runs it, in an environment of its own: nothing
/// from the caller's shell (no NEXUS_DR_INVENTORY, NEXUS_DR_ENV, …), help wrapped at 80 columns.
enum BuiltNexusDR {
  static let local = LocalTransport()

  static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) async throws
    -> CommandResult
  {
    var variables = ["PATH": "/usr/local/bin:/usr/bin:/bin", "COLUMNS": "80"]
    variables.merge(environment) { $1 }
    var argv = ["/usr/bin/env", "-i"]
    if let directory { argv += ["-C", directory] }
    argv += variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    return try await local.run(.argv(argv + [BuiltTool.path] + arguments, timeout: .seconds(60)))
  }
}

/// This package's checkout: its runbooks/ and fixtures/.
enum Repository {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
}
