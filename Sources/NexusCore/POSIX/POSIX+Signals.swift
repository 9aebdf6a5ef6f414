import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

extension POSIX {
  /// Sends `signal` to the process `pid`, or to every process of the group `-pid` when `pid`
  /// is negative (a command started as the leader of its own group, with its children).
  ///
  /// The corresponding C function is `kill`.
  public static func kill(_ pid: Int32, _ signal: CInt) throws(Errno) {
    try once { Glibc.kill(pid, signal) }
  }
}
