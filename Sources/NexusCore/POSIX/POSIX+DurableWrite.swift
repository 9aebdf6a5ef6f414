import SystemPackage

extension POSIX {
  /// Where a durable write of `path` writes first: `.NAME.tmp.PID` in the same directory, so the
  /// rename stays on one file system and a leftover of a killed process is recognisable as one.
  public static func temporaryPath(for path: String) -> String {
    let file = FilePath(path)
    return "\(directory(of: path))/.\(file.lastComponent?.string ?? path).tmp.\(processID)"
  }

  /// The directory `path` is in (`.` for a bare name).
  public static func directory(of path: String) -> String {
    let parent = FilePath(path).removingLastComponent().string
    return parent.isEmpty ? "." : parent
  }

  /// Writes `path` durably; the one implementation of that protocol in nexus-dr.
  ///
  /// `fill` writes the content into a new temporary file in the same directory (`temporary`,
  /// created with exactly `permissions`), which is then fsync'd, closed and renamed onto `path`,
  /// and the directory fsync'd: after a crash or a power loss, `path` holds either what it held
  /// before or all of the new content, never a part. When anything fails — `fill` too, which may
  /// also check what it wrote (a copy against its source's checksum) — the temporary file is
  /// removed and `path` keeps what it held.
  ///
  /// A failure of the write itself (create, fsync, close, rename, the directory's fsync) becomes
  /// the caller's error through `failure`, so `fill` and the write throw one type.
  ///
  /// The corresponding C functions are `open` (`O_CREAT | O_EXCL`), `fchmod`, `fsync`, `close`,
  /// `rename` and `fsync` of the directory.
  public static func durableWrite<Result, Failure: Error>(
    to path: String, permissions: FilePermissions = .ownerReadWrite, temporary: String? = nil,
    failure: (FileSystemError) -> Failure,
    _ fill: (FileDescriptor) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    let temporary = temporary ?? temporaryPath(for: path)
    // A temporary file left by a killed writer is replaced; O_EXCL then makes sure the file
    // written is the new one this call created (not a link planted in its place).
    try? remove(temporary)
    let file: FileDescriptor
    do { file = try open(temporary, .writeOnly, options: [.create, .exclusiveCreate], permissions: permissions) } catch
    {
      throw failure(error)
    }
    var closed = false
    defer { if !closed { try? file.close() } }
    do throws(Failure) {
      do { try setPermissions(file, permissions) } catch { throw failure(FileSystemError("chmod", temporary, error)) }
      let result = try fill(file)
      do { try sync(file) } catch { throw failure(FileSystemError("fsync", temporary, error)) }
      closed = true
      do { try file.close() } catch { throw failure(FileSystemError("close", temporary, systemError(error))) }
      do { try rename(temporary, to: path) } catch { throw failure(FileSystemError("rename", path, error)) }
      do { try sync(path: directory(of: path), directory: true) } catch { throw failure(error) }
      return result
    } catch {
      try? remove(temporary)
      throw error
    }
  }

  /// ``durableWrite(to:permissions:temporary:failure:_:)`` for a `fill` that throws the write's own error.
  public static func durableWrite<Result>(
    to path: String, permissions: FilePermissions = .ownerReadWrite, temporary: String? = nil,
    _ fill: (FileDescriptor) throws(FileSystemError) -> Result
  ) throws(FileSystemError) -> Result {
    try durableWrite(to: path, permissions: permissions, temporary: temporary, failure: { $0 }, fill)
  }

  /// Writes `bytes` to `path` durably (``durableWrite(to:permissions:temporary:failure:_:)``).
  public static func durableWrite(
    _ bytes: some Sequence<UInt8>, to path: String, permissions: FilePermissions = .ownerReadWrite
  ) throws(FileSystemError) {
    let temporary = temporaryPath(for: path)
    try durableWrite(to: path, permissions: permissions, temporary: temporary) { file throws(FileSystemError) in
      do { _ = try file.writeAll(bytes) } catch { throw FileSystemError("write", temporary, systemError(error)) }
    }
  }
}
