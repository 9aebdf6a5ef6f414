import Foundation
import NexusBackup
import NexusCore
import SystemPackage

/// One run per environment: an exclusive `flock` on `locks/ENV.lock` in the
/// state directory. The kernel frees it when the holder exits or dies, so a
/// crash never leaves a stale lock. The file names the holder for the message
/// a second run prints.
public final class RunLock: @unchecked Sendable {
  public struct Holder: Codable, Sendable {
    public var pid: Int32
    public var machine: String
    public var runID: String
    public var runbook: String
    public var started: String

    public init(pid: Int32, machine: String, runID: String, runbook: String, started: String) {
      self.pid = pid
      self.machine = machine
      self.runID = runID
      self.runbook = runbook
      self.started = started
    }
  }

  private let file: FileDescriptor
  public let path: String

  private init(file: FileDescriptor, path: String) {
    self.file = file
    self.path = path
  }

  deinit {
    POSIX.unlock(file)
    try? file.close()
  }

  static func path(stateDirectory: String, environment: String) -> String {
    "\(stateDirectory)/locks/\(environment).lock"
  }

  /// Takes the lock or throws `locked` naming the holder.
  public static func acquire(stateDirectory: String, environment: String, holder: Holder) throws -> RunLock {
    let path = path(stateDirectory: stateDirectory, environment: environment)
    try StateDirectory.ensure(stateDirectory + "/locks")
    let file: FileDescriptor
    do { file = try POSIX.open(path, .readWrite, options: .create, permissions: .ownerReadWrite) } catch {
      throw RunError(.stateUnwritable, "cannot open the lock file \(path): \(error.errno)")
    }
    guard (try? POSIX.tryLock(file, .exclusive)) == true else {
      try? file.close()
      let current = currentHolder(path: path)
      let who =
        current.map {
          "run \($0.runID) (\($0.runbook)), pid \($0.pid) on \($0.machine), started \($0.started)"
        } ?? "another nexus-dr process"
      throw RunError(
        .locked,
        "environment '\(environment)' is busy: \(who) holds \(path). Wait for it to finish, or stop it first; the lock frees itself when that process ends."
      )
    }
    let data = (try? JSONEncoder().encode(holder)) ?? Data()
    // In place, not by a durable write's rename: the lock is on this inode, and a run that
    // opened a renamed-in file would lock another one.
    try? POSIX.replaceContents(of: file, with: Array(data))
    return RunLock(file: file, path: path)
  }

  static func currentHolder(path: String) -> Holder? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(Holder.self, from: data)
  }

  /// Whether some process holds the environment's lock now, and who.
  public static func holder(stateDirectory: String, environment: String) -> Holder? {
    let path = path(stateDirectory: stateDirectory, environment: environment)
    guard let file = try? POSIX.open(path, .readOnly) else { return nil }
    defer { try? file.close() }
    if (try? POSIX.tryLock(file, .shared)) == true {
      POSIX.unlock(file)
      return nil
    }
    return currentHolder(path: path)
  }
}

/// The state directory: 0700, created on first use.
public enum StateDirectory {
  public static func ensure(_ path: String) throws {
    do {
      try FileManager.default.createDirectory(
        atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    } catch {
      throw RunError(
        .stateUnwritable,
        "cannot create the state directory \(path): \(error.localizedDescription). Use --state-dir or NEXUS_DR_STATE_DIR for another place."
      )
    }
  }

  /// Writes a file with mode 0600, as durably as the journal: temporary name, fsync, rename,
  /// fsync of the directory (a runbook copy or report never half-written after a power loss).
  public static func write(_ data: Data, to path: String) throws {
    do { try FileSystem.durableWrite(Array(data), to: path, mode: 0o600) } catch {
      throw RunError(.stateUnwritable, "cannot write \(path): \(error)")
    }
  }
}
