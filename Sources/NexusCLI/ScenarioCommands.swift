import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

/// `nexus-dr corrupt-db`: the corrupt-database scenario (runbooks/corrupt-db.yaml).
struct CorruptDBCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "corrupt-db",
    abstract: "Restore a damaged database: choose the restore point, keep the damaged copy aside, restore, verify, restart.",
    discussion: "Questions: choose.choose-restore-point, confirm.stop-services, manual.confirm-resync (and resume.STEP-ID on resume). See docs/operator-guide.md.")

  @OptionGroup var options: CommonOptions

  func run() async throws {
    var command = try RunCommand.parse(["corrupt-db"])
    command.options = options
    try await command.run()
  }
}
