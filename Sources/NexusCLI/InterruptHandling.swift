import Dispatch
import Foundation
import NexusCore
import NexusEngine

/// Runs `body` so that Ctrl-C or SIGTERM cancels it (the engine stops the
/// running command, journals `interrupted` and returns 130); a second signal exits at once.
func withInterruptHandling(_ body: @escaping @Sendable () async -> RunExit) async -> RunExit {
  for number in POSIX.interruptSignals { POSIX.ignore(signal: number) }
  let task = Task { await body() }
  let count = Locked(0)
  let queue = DispatchQueue(label: "nexus-dr.signals")
  let sources = POSIX.interruptSignals.map { number -> any DispatchSourceSignal in
    let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
    source.setEventHandler {
      let seen = count.withLock { value in
        value += 1
        return value
      }
      if seen == 1 {
        FileHandle.standardError.write(Data("\nnexus-dr: stopping the running command (again to quit at once)…\n".utf8))
        task.cancel()
      } else {
        POSIX.exit(RunExit.interrupted.rawValue)
      }
    }
    source.resume()
    return source
  }
  let result = await task.value
  for source in sources { source.cancel() }
  return result
}
