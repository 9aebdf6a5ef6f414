import ArgumentParser
import Foundation
import NexusBackup
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr wal push %p %f` and `wal fetch %f %p`: archive_command and restore_command.
  struct WAL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "wal",
      abstract: "PostgreSQL's archive_command (push) and restore_command (fetch), durable and NAS-aware.",
      subcommands: [Push.self, Fetch.self])
  }
}

/// Where the archive is: the environment's NAS from the inventory, or the options.
struct WALLocation: ParsableArguments {
  @OptionGroup var options: CommonOptions
  @Option(help: "The NAS path (instead of the inventory's nas.path).") var nas: String?
  @Option(help: "The fallback directory (instead of the inventory's nas.fallback).") var fallback: String?
  @Option(help: "The NAS filesystem type (instead of the inventory's nas.fstype).") var fstype: String?

  func archive() throws -> WALArchive {
    if let nas, let fallback { return WALArchive(nasPath: nas, fallbackPath: fallback, fstype: fstype) }
    let environment = try options.loadEnvironment().environment
    guard let spec = environment.nas else {
      Console.error("error: environment \(environment.name) has no nas section in \(options.inventoryPath)")
      throw ExitCode(RunExit.invalidInput.rawValue)
    }
    return WALArchive(nasPath: nas ?? spec.path, fallbackPath: fallback ?? spec.fallback, fstype: fstype ?? spec.fstype)
  }
}

extension NexusDR.WAL {
  struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "push",
      abstract: "Archive one WAL segment: archive_command = 'nexus-dr wal push %p %f'.",
      discussion: """
        Exit 0 when the segment is safely on the NAS (or, while the NAS is unavailable, in the \
        spool on the fallback), and when an identical copy is already archived. Non-zero when an \
        archived segment of that name has different content (the original is kept) or nothing \
        could be written; PostgreSQL then keeps the segment and retries.
        """)

    @OptionGroup var location: WALLocation
    @Argument(help: "%p: the segment's path, relative to the data directory.") var path: String
    @Argument(help: "%f: the segment's file name.") var name: String

    func run() async throws {
      let outcome = try location.archive().push(source: path, name: name)
      FileHandle.standardError.write(Data("nexus-dr wal push: \(outcome.message)\n".utf8))
      if outcome.status != 0 { throw ExitCode(outcome.status) }
    }
  }

  struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "fetch",
      abstract: "Restore one WAL segment: restore_command = 'nexus-dr wal fetch %f %p'.",
      discussion: """
        Exit 0 when found (on the NAS, or in the spool) and copied; 1 when it is not archived, \
        which is how recovery normally ends; 126 on an error (the NAS not mounted, a read error), \
        which makes PostgreSQL stop recovery instead of ending it early.
        """)

    @OptionGroup var location: WALLocation
    @Argument(help: "%f: the segment's file name.") var name: String
    @Argument(help: "%p: where to put it, relative to the data directory.") var path: String

    func run() async throws {
      let outcome: WALArchive.Outcome
      do { outcome = try location.archive().fetch(name: name, destination: path) } catch {
        FileHandle.standardError.write(
          Data("nexus-dr wal fetch: cannot read the configuration; stopping recovery\n".utf8))
        throw ExitCode(126)
      }
      if outcome.status != 1 { FileHandle.standardError.write(Data("nexus-dr wal fetch: \(outcome.message)\n".utf8)) }
      if outcome.status != 0 { throw ExitCode(outcome.status) }
    }
  }
}
