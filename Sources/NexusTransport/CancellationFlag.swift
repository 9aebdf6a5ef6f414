import Synchronization

/// Set from a cancellation handler, read by the transport's queue.
final class CancellationFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  func set() { flag.store(true, ordering: .relaxed) }
  var isSet: Bool { flag.load(ordering: .relaxed) }
}
