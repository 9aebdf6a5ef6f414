import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension POSIX {
  /// A whole-file advisory lock, as `flock` takes it.
  public enum LockKind: Sendable {
    /// Many holders at once (readers).
    case shared
    /// One holder, no shared ones.
    case exclusive
  }

  /// Takes a lock on an open file without waiting: false when another open file description
  /// holds a conflicting one. The kernel frees it when the file is closed, also when the process
  /// dies, so a crash never leaves a stale lock.
  ///
  /// The corresponding C function is `flock` (with `LOCK_NB`).
  public static func tryLock(_ file: FileDescriptor, _ kind: LockKind) throws(Errno) -> Bool {
    let operation = (kind == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB
    do {
      try retryingOnInterrupt { flock(file.rawValue, operation) }
      return true
    } catch {
      if error == .wouldBlock { return false }
      throw error
    }
  }

  /// Releases a lock taken with ``tryLock(_:_:)``.
  ///
  /// The corresponding C function is `flock` (with `LOCK_UN`).
  public static func unlock(_ file: FileDescriptor) {
    _ = flock(file.rawValue, LOCK_UN)
  }
}
