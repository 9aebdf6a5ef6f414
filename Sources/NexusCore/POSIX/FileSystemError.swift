import SystemPackage

/// A file-system failure, naming the operation, the path and the system's reason.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var operation: String
  public var errno: Errno

  public init(_ operation: String, _ path: String, _ errno: Errno) {
    self.operation = operation
    self.path = path
    self.errno = errno
  }

  public var description: String { "\(operation) \(path): \(errno)" }

  /// The disk is full (or over quota): a reason to spool rather than to fail.
  public var isNoSpace: Bool { errno == .noSpace || errno == .diskQuotaExceeded }
}
