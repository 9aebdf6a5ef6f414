import Foundation
import NexusCore
import NexusTransport

/// Commands for files on a host. Paths are always passed as arguments, never
/// spliced into a script: scripts refer to them as "$1", "$2".
enum HostCommandLines {
  static func makeDirectories(_ base: String, subdirectories: [String]) -> HostCommand {
    .argv(["mkdir", "-p", "--", base] + subdirectories.map { "\(base)/\($0)" }, timeout: .seconds(60))
  }

  /// Writes `content` to `path` durably: temporary name, fsync, rename, fsync of the directory.
  static func writeFile(_ path: String, content: [UInt8]) -> HostCommand {
    var command = HostCommand(
      .argv(["sh", "-c", RemoteScript.durable + RemoteScript.writeFile, "write-file", path]),
      timeout: .seconds(120))
    command.stdin = content
    return command
  }

  /// `name size` for each file in a directory matching a glob (nothing when the directory is missing).
  static func list(_ directory: String, matching glob: String) -> HostCommand {
    .argv(
      [
        "sh", "-c", #"[ -d "$1" ] || exit 0; find "$1" -maxdepth 1 -type f -name "$2" -printf '%f %s\n' | sort"#,
        "list", directory, glob,
      ], timeout: .seconds(60))
  }

  static func parseListing(_ text: String) -> [(name: String, size: Int64)] {
    text.split(separator: "\n").compactMap { line in
      let parts = line.split(separator: " ")
      guard parts.count == 2, let size = Int64(parts[1]) else { return nil }
      return (String(parts[0]), size)
    }
  }
}
