import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The one place nexus-dr calls the C library.
///
/// Shaped as swift-system's `Internals/Syscalls.swift`, on top of it: files are swift-system's
/// `FileDescriptor` (open, read, write, stat and close come from there), failures its `Errno`.
/// This adds what swift-system lacks — fsync, fchmod, futimens, rename, flock, sendfile, sockets,
/// getaddrinfo, kill — and the protocols built on those calls, such as the durable write. Each
/// wrapper's doc comment names the C function it wraps. Nothing outside this folder imports Glibc.
public enum POSIX {}

extension POSIX {
  /// The value of a call that returns -1 and sets `errno` when it fails, repeated while it fails
  /// with EINTR (a signal arrived; the call did nothing and can be made again).
  @discardableResult
  static func retryingOnInterrupt<Value: FixedWidthInteger>(_ call: () -> Value) throws(Errno) -> Value {
    while true {
      let value = call()
      if value != -1 { return value }
      let failure = Errno(rawValue: Glibc.errno)
      if failure != .interrupted { throw failure }
    }
  }

  /// The value of a call that returns -1 and sets `errno` when it fails, made once.
  @discardableResult
  static func once<Value: FixedWidthInteger>(_ call: () -> Value) throws(Errno) -> Value {
    let value = call()
    if value == -1 { throw Errno(rawValue: Glibc.errno) }
    return value
  }

  /// The `Errno` a swift-system call threw (its untyped `throws` only ever throws one).
  public static func systemError(_ error: any Error) -> Errno {
    error as? Errno ?? .ioError
  }

  /// This process's id.
  ///
  /// The corresponding C function is `getpid`.
  public static var processID: Int32 { getpid() }
}
