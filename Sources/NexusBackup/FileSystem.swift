import Foundation
import NexusCore
import SystemPackage

// The file-system operations of the routine backups that run on the server itself
// (`wal push`, `wal fetch`), on the POSIX boundary. Each durable write is POSIX.durableWrite:
// temporary name in the same directory, write, fsync, rename, fsync of the directory.

public enum FileSystem {
  /// Copies `source` to `destination` durably; `destination` must not exist.
  /// On any failure the temporary file is removed and `destination` untouched.
  /// `keepingTime`: the copy gets the source's modification time (a spooled WAL segment moved
  /// to the NAS keeps the time it was archived at, which the loss windows are read from).
  public static func durableCopy(from source: String, to destination: String, keepingTime: Bool = false)
    throws(FileSystemError)
  {
    let input = try POSIX.open(source, .readOnly)
    defer { try? input.close() }
    let temporary = POSIX.temporaryPath(for: destination)
    try POSIX.durableWrite(to: destination, temporary: temporary) { output throws(FileSystemError) in
      let status: Stat
      do throws(Errno) { status = try input.stat() } catch { throw FileSystemError("stat", source, error) }
      try POSIX.copyContents(from: input, at: source, size: status.size, to: output, at: temporary)
      if keepingTime {
        do throws(Errno) { try POSIX.setTimes(output, from: status) } catch {
          throw FileSystemError("set the time of", temporary, error)
        }
      }
    }
  }

  /// Writes `bytes` to `path` durably: a temporary name in the same directory (`mode`), write,
  /// fsync, rename, fsync of the directory. On failure the temporary file is removed and
  /// `path` keeps what it held.
  public static func durableWrite(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(FileSystemError) {
    try POSIX.durableWrite(bytes, to: path, permissions: FilePermissions(rawValue: mode))
  }

  /// fsync of a file already in place. An archive_command that finds its segment already
  /// archived (a retry after a crash between rename and the directory's fsync) must make that
  /// copy durable before it answers 0: PostgreSQL then recycles its own (as basic_archive does).
  public static func syncFile(_ path: String) throws(FileSystemError) {
    try POSIX.sync(path: path)
  }

  /// fsync of a directory, so a rename in it survives a power loss.
  public static func syncDirectory(_ path: String) throws(FileSystemError) {
    try POSIX.sync(path: path, directory: true)
  }

  /// Whether two files have the same bytes.
  public static func sameContent(_ a: String, _ b: String) throws(FileSystemError) -> Bool {
    let first = try POSIX.open(a, .readOnly)
    defer { try? first.close() }
    let second = try POSIX.open(b, .readOnly)
    defer { try? second.close() }
    let size = 1 << 20
    let left = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    let right = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    defer {
      left.deallocate()
      right.deallocate()
    }
    while true {
      let countA = try readFully(first, a, into: left)
      let countB = try readFully(second, b, into: right)
      if countA != countB || !left[..<countA].elementsEqual(right[..<countB]) { return false }
      if countA == 0 { return true }
    }
  }

  private static func readFully(_ file: FileDescriptor, _ path: String, into buffer: UnsafeMutableRawBufferPointer)
    throws(FileSystemError) -> Int
  {
    var total = 0
    while total < buffer.count {
      let count: Int
      do { count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...])) } catch {
        throw FileSystemError("read", path, POSIX.systemError(error))
      }
      if count == 0 { break }
      total += count
    }
    return total
  }

  public static func exists(_ path: String) -> Bool { POSIX.isAccessible(path) }

  public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(FileSystemError) {
    if exists(path) { return }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path, !exists(parent) { try makeDirectory(parent, mode: mode) }
    do throws(Errno) { try POSIX.makeDirectory(path, permissions: FilePermissions(rawValue: mode)) } catch {
      guard error == .fileExists else { throw FileSystemError("mkdir", path, error) }
    }
    // The new directory's entry is durable only once its parent is fsync'd (wal/, wal-spool/).
    try syncDirectory(parent.isEmpty ? "." : parent)
  }
}

/// What `/proc/self/mountinfo` says about a path.
public struct MountPoint: Sendable, Equatable {
  public var path: String
  public var fstype: String
  public var source: String

  /// The mount whose mount point is exactly `path`, or nil when `path` is just a
  /// directory on another filesystem (an unmounted NAS path looks like that).
  public static func exactly(at path: String, mountinfo: String? = nil) -> MountPoint? {
    let text = mountinfo ?? ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
    let wanted = (path as NSString).standardizingPath
    var found: MountPoint?
    for line in text.split(separator: "\n") {
      // id parent major:minor root mount-point options [optional...] - fstype source super-options
      let halves = line.components(separatedBy: " - ")
      guard halves.count >= 2 else { continue }
      let left = halves[0].split(separator: " ")
      let right = halves[1].split(separator: " ")
      guard left.count >= 5, right.count >= 2 else { continue }
      let point = unescape(String(left[4]))
      // The last matching line wins: it is the mount on top.
      if point == wanted {
        found = MountPoint(path: point, fstype: String(right[0]), source: unescape(String(right[1])))
      }
    }
    return found
  }

  /// mountinfo writes space, tab, newline and backslash as octal escapes.
  static func unescape(_ text: String) -> String {
    text.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
      .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
  }
}
