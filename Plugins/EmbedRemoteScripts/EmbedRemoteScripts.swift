import Foundation
import PackagePlugin

/// Turns the `.sh` files in a target's `RemoteScripts/` folder into one generated
/// Swift file, `RemoteScripts.swift`, with a string constant per script: the
/// scripts stay files (read, diffed and shellchecked as shell) and still ship
/// inside the binary, so nothing has to be installed next to it.
@main
struct EmbedRemoteScripts: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let target = target as? SourceModuleTarget else { return [] }
    let folder = target.directoryURL.appending(path: "RemoteScripts")
    let scripts = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "sh" }
      .sorted { $0.lastPathComponent < $1.lastPathComponent }
    let output = context.pluginWorkDirectoryURL.appending(path: "RemoteScripts.swift")
    return [
      .buildCommand(
        displayName: "Embedding \(scripts.count) remote scripts into \(target.name)",
        executable: try context.tool(named: "embed-remote-scripts").url,
        arguments: [output.path] + scripts.map(\.path),
        inputFiles: scripts,
        outputFiles: [output])
    ]
  }
}
