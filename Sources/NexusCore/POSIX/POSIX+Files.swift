import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension POSIX {
  /// Opens `path` as swift-system's `FileDescriptor.open` does (close-on-exec added), with a
  /// failure that names the path.
  ///
  /// The corresponding C function is `open`.
  public static func open(
    _ path: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
    permissions: FilePermissions? = nil
  ) throws(FileSystemError) -> FileDescriptor {
    do {
      return try FileDescriptor.open(path, mode, options: options.union(.closeOnExec), permissions: permissions)
    } catch {
      throw FileSystemError(options.contains(.create) ? "create" : "open", path, systemError(error))
    }
  }

  /// Writes a file's data and metadata through to the disk.
  ///
  /// The corresponding C function is `fsync`.
  public static func sync(_ file: FileDescriptor) throws(Errno) {
    try retryingOnInterrupt { fsync(file.rawValue) }
  }

  /// Opens `path` read-only just to fsync it: a file already in place, or a directory after a
  /// rename or a new entry in it (the entry survives a power loss only once its directory is synced).
  ///
  /// The corresponding C functions are `open` and `fsync`.
  public static func sync(path: String, directory: Bool = false) throws(FileSystemError) {
    let file = try open(path, .readOnly, options: directory ? .directory : [])
    defer { try? file.close() }
    do { try sync(file) } catch { throw FileSystemError("fsync", path, error) }
  }

  /// Sets a file's permission bits exactly, whatever the umask took away when it was created.
  ///
  /// The corresponding C function is `fchmod`.
  public static func setPermissions(_ file: FileDescriptor, _ permissions: FilePermissions) throws(Errno) {
    try retryingOnInterrupt { fchmod(file.rawValue, permissions.rawValue) }
  }

  /// Gives a file the access and modification times `status` records (another file's).
  ///
  /// The corresponding C function is `futimens`.
  public static func setTimes(_ file: FileDescriptor, from status: Stat) throws(Errno) {
    var times = [status.rawValue.st_atim, status.rawValue.st_mtim]
    try once { futimens(file.rawValue, &times) }
  }

  /// Gives `source` the name `destination`, replacing what was there, in one step.
  ///
  /// The corresponding C function is `rename`.
  public static func rename(_ source: String, to destination: String) throws(Errno) {
    try once { Glibc.rename(source, destination) }
  }

  /// Removes a name from the file system (the file goes once nothing holds it open).
  ///
  /// The corresponding C function is `unlink`.
  public static func remove(_ path: String) throws(Errno) {
    try once { unlink(path) }
  }

  /// Creates one directory; its parent must exist.
  ///
  /// The corresponding C function is `mkdir`.
  public static func makeDirectory(_ path: String, permissions: FilePermissions) throws(Errno) {
    try once { mkdir(path, permissions.rawValue) }
  }

  /// What `access` checks: existence alone when empty.
  public struct Access: OptionSet, Sendable {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    public static let read = Access(rawValue: R_OK)
    public static let write = Access(rawValue: W_OK)
    public static let execute = Access(rawValue: X_OK)
  }

  /// Whether this process may use `path` that way (with its real user id); with no `access`,
  /// whether the path exists at all.
  ///
  /// The corresponding C function is `access`.
  public static func isAccessible(_ path: String, _ access: Access = []) -> Bool {
    Glibc.access(path, access.isEmpty ? F_OK : access.rawValue) == 0
  }

  /// Copies `size` bytes of `input`, from its current offset, to `output`: in the kernel
  /// (no copy through this process) where the file systems allow it, else by reads and writes.
  ///
  /// A file system that cannot `sendfile` (EXDEV, EINVAL, ENOSYS, or 0 bytes from a pseudo-file)
  /// says so before the first byte: then the copy reads until the end of the input, whatever
  /// `size` said. A full disk or an I/O error is a failure either way.
  ///
  /// The corresponding C functions are `sendfile`, `read` and `write`.
  public static func copyContents(
    from input: FileDescriptor, at inputPath: String, size: Int64, to output: FileDescriptor, at outputPath: String
  ) throws(FileSystemError) {
    let size = Int(size)
    var copied = 0
    while copied < size {
      let count = sendfile(output.rawValue, input.rawValue, nil, size - copied)
      if count > 0 {
        copied += count
        continue
      }
      let failure = Errno(rawValue: Glibc.errno)
      if copied > 0 || (count < 0 && [.noSpace, .diskQuotaExceeded, .ioError].contains(failure)) {
        throw FileSystemError("write", outputPath, failure)
      }
      break
    }
    guard copied == 0 else { return }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let count: Int
      do { count = try input.read(into: buffer) } catch { throw FileSystemError("read", inputPath, systemError(error)) }
      if count == 0 { return }
      do { _ = try output.writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<count])) } catch {
        throw FileSystemError("write", outputPath, systemError(error))
      }
    }
  }

  /// Replaces the whole content of an open file in place and syncs it: for a file whose inode
  /// matters (a lock file others hold `flock` on), which a rename would replace.
  ///
  /// The corresponding C functions are `ftruncate`, `pwrite` and `fsync`.
  public static func replaceContents(of file: FileDescriptor, with bytes: [UInt8]) throws(Errno) {
    do {
      try file.resize(to: 0)
      _ = try file.writeAll(toAbsoluteOffset: 0, bytes)
    } catch {
      throw systemError(error)
    }
    try sync(file)
  }
}
