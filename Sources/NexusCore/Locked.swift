import Synchronization

/// A value shared between tasks and threads, behind a mutex. A class so that
/// escaping closures can capture it (a `Mutex` cannot be copied).
public final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>

  public init(_ value: Value) { mutex = Mutex(value) }

  @discardableResult
  public func withLock<T: Sendable>(_ body: (inout Value) throws -> T) rethrows -> T {
    try mutex.withLock { try body(&$0) }
  }

  public var value: Value { mutex.withLock { $0 } }
}
