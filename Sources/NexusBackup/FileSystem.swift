import Foundation

#if canImport(Glibc)
  import Glibc
#endif

// The file-system calls of the routine backups that run on the server itself
// (`wal push`, `wal fetch`). Each durable write is: temporary name in the same
// directory, write, fsync, rename, fsync of the directory.

/// A file-system failure, naming the path and the system's reason.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var operation: String
  public var errno: Int32

  public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }

  /// The disk is full (or over quota): a reason to spool rather than to fail.
  public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
}

public enum FileSystem {
  static func fail(_ operation: String, _ path: String) -> FileSystemError {
    FileSystemError(path: path, operation: operation, errno: Glibc.errno)
  }

  /// Copies `source` to `destination` durably; `destination` must not exist.
  /// On any failure the temporary file is removed and `destination` untouched.
  /// `keepingTime`: the copy gets the source's modification time (a spooled WAL segment moved
  /// to the NAS keeps the time it was archived at, which the loss windows are read from).
  public static func durableCopy(from source: String, to destination: String, keepingTime: Bool = false) throws(FileSystemError) {
    let directory = (destination as NSString).deletingLastPathComponent
    let temporary = "\(directory)/.\((destination as NSString).lastPathComponent).tmp.\(getpid())"
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw fail("open", source) }
    defer { close(input) }
    let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard output >= 0 else { throw fail("create", temporary) }
    var closed = false
    defer { if !closed { close(output) } }
    do throws(FileSystemError) {
      // In the kernel first (sendfile: no copy through this process) up to
      // the size fstat gives; a file system that cannot (EXDEV, EINVAL, ENOSYS, or 0 bytes
      // from a pseudo-file) before the first byte falls back to read/write.
      var status = stat()
      guard fstat(input, &status) == 0 else { throw fail("stat", source) }
      let size = Int(status.st_size)
      var copied = 0
      while copied < size {
        let count = sendfile(output, input, nil, size - copied)
        if count > 0 { copied += count; continue }
        if copied > 0 || (count < 0 && [ENOSPC, EDQUOT, EIO].contains(Glibc.errno)) { throw fail("write", temporary) }
        break
      }
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
      defer { buffer.deallocate() }
      while copied == 0 || copied < size {
        let count = read(input, buffer, 1 << 20)
        if count < 0 { throw fail("read", source) }
        if count == 0 { break }
        var offset = 0
        while offset < count {
          let written = write(output, buffer + offset, count - offset)
          if written < 0 { throw fail("write", temporary) }
          offset += written
        }
      }
      if keepingTime {
        var times = [status.st_atim, status.st_mtim]
        guard futimens(output, &times) == 0 else { throw fail("set the time of", temporary) }
      }
      guard fsync(output) == 0 else { throw fail("fsync", temporary) }
      closed = true
      guard close(output) == 0 else { throw fail("close", temporary) }
      guard rename(temporary, destination) == 0 else { throw fail("rename", destination) }
      try syncDirectory(directory)
    } catch {
      unlink(temporary)
      throw error
    }
  }

  /// Writes `bytes` to `path` durably: a temporary name in the same directory (`mode`), write,
  /// fsync, rename, fsync of the directory. On failure the temporary file is removed and
  /// `path` keeps what it held.
  public static func durableWrite(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(FileSystemError) {
    let directory = (path as NSString).deletingLastPathComponent
    let temporary = "\(directory.isEmpty ? "." : directory)/.\((path as NSString).lastPathComponent).tmp.\(getpid())"
    let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard output >= 0 else { throw fail("create", temporary) }
    var closed = false
    defer { if !closed { close(output) } }
    do throws(FileSystemError) {
      guard fchmod(output, mode) == 0 else { throw fail("chmod", temporary) }
      var offset = 0
      while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(output, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
        if written < 0 { throw fail("write", temporary) }
        offset += written
      }
      guard fsync(output) == 0 else { throw fail("fsync", temporary) }
      closed = true
      guard close(output) == 0 else { throw fail("close", temporary) }
      guard rename(temporary, path) == 0 else { throw fail("rename", path) }
      try syncDirectory(directory.isEmpty ? "." : directory)
    } catch {
      unlink(temporary)
      throw error
    }
  }

  /// fsync of a file already in place. An archive_command that finds its segment already
  /// archived (a retry after a crash between rename and the directory's fsync) must make that
  /// copy durable before it answers 0: PostgreSQL then recycles its own (as basic_archive does).
  public static func syncFile(_ path: String) throws(FileSystemError) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw fail("open", path) }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw fail("fsync", path) }
  }

  /// fsync of a directory, so a rename in it survives a power loss.
  public static func syncDirectory(_ path: String) throws(FileSystemError) {
    let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { throw fail("open", path) }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw fail("fsync", path) }
  }

  /// Whether two files have the same bytes.
  public static func sameContent(_ a: String, _ b: String) throws(FileSystemError) -> Bool {
    let first = open(a, O_RDONLY | O_CLOEXEC)
    guard first >= 0 else { throw fail("open", a) }
    defer { close(first) }
    let second = open(b, O_RDONLY | O_CLOEXEC)
    guard second >= 0 else { throw fail("open", b) }
    defer { close(second) }
    let size = 1 << 20
    let left = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
    let right = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
    defer {
      left.deallocate()
      right.deallocate()
    }
    while true {
      let countA = readFully(first, left, size)
      let countB = readFully(second, right, size)
      guard countA >= 0 else { throw fail("read", a) }
      guard countB >= 0 else { throw fail("read", b) }
      if countA != countB || memcmp(left, right, countA) != 0 { return false }
      if countA == 0 { return true }
    }
  }

  private static func readFully(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ size: Int) -> Int {
    var total = 0
    while total < size {
      let count = read(descriptor, buffer + total, size - total)
      if count < 0 { return -1 }
      if count == 0 { break }
      total += count
    }
    return total
  }

  public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

  public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(FileSystemError) {
    if exists(path) { return }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path, !exists(parent) { try makeDirectory(parent, mode: mode) }
    guard mkdir(path, mode) == 0 || Glibc.errno == EEXIST else { throw fail("mkdir", path) }
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
      if point == wanted { found = MountPoint(path: point, fstype: String(right[0]), source: unescape(String(right[1]))) }
    }
    return found
  }

  /// mountinfo writes space, tab, newline and backslash as octal escapes.
  static func unescape(_ text: String) -> String {
    text.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
      .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
  }
}
