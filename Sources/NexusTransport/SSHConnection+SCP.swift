import NexusCore
import SystemPackage

extension SSHConnection {
  /// Sends a local file with SCP to `remotePath`.
  func scpSend(localPath: String, remotePath: String, mode: Int32, size: Int64, deadline: ContinuousClock.Instant)
    throws(TransportError)
  {
    guard let session else { throw failure(.localFailure, "not connected") }
    let input: FileDescriptor
    do { input = try POSIX.open(localPath, .readOnly) } catch {
      throw failure(.localFailure, "cannot open \(localPath): \(error.errno)")
    }
    defer { try? input.close() }
    var opened: OpaquePointer?
    while opened == nil {
      opened = LibSSH2.scpSend(session, path: remotePath, mode: mode, size: size)
      if opened == nil {
        guard LibSSH2.lastErrno(session) == LibSSH2.wouldBlock else {
          throw failure(
            .transferFailed, "the host refused the upload to \(remotePath): \(lastError)",
            hint: "check that the directory exists and is writable")
        }
        try waitSocket(until: deadline)
      }
    }
    guard let channel = opened else { return }
    defer { LibSSH2.free(channel: channel) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)
    defer { buffer.deallocate() }
    while true {
      let count: Int
      do { count = try input.read(into: buffer) } catch {
        throw failure(.localFailure, "cannot read \(localPath): \(POSIX.systemError(error))")
      }
      if count == 0 { break }
      var offset = 0
      while offset < count {
        let written = LibSSH2.write(channel, UnsafeRawBufferPointer(rebasing: buffer[offset..<count]))
        if written == Int(LibSSH2.wouldBlock) {
          try waitSocket(until: deadline)
          continue
        }
        if written < 0 { throw failure(.transferFailed, "upload to \(remotePath) broke: \(lastError)") }
        offset += written
      }
    }
    try retry(until: deadline, code: .transferFailed, what: "finishing the upload") { LibSSH2.sendEOF(channel) }
    try retry(until: deadline, code: .transferFailed, what: "finishing the upload") { LibSSH2.waitEOF(channel) }
    try retry(until: deadline, code: .transferFailed, what: "finishing the upload") { LibSSH2.waitClosed(channel) }
  }

  /// Receives `remotePath` with SCP into an open local file; returns the size the host announced.
  func scpReceive(remotePath: String, into output: FileDescriptor, deadline: ContinuousClock.Instant)
    throws(TransportError) -> Int64
  {
    guard let session else { throw failure(.localFailure, "not connected") }
    var opened: (channel: OpaquePointer, size: Int64)?
    while opened == nil {
      opened = LibSSH2.scpReceive(session, path: remotePath)
      if opened == nil {
        guard LibSSH2.lastErrno(session) == LibSSH2.wouldBlock else {
          throw failure(
            .transferFailed, "cannot download \(remotePath): \(lastError)",
            hint: "check that the file exists and is readable on the host")
        }
        try waitSocket(until: deadline)
      }
    }
    guard let (channel, size) = opened else { return 0 }
    defer { LibSSH2.free(channel: channel) }
    var received: Int64 = 0
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)
    defer { buffer.deallocate() }
    while received < size {
      let wanted = Int(min(Int64(buffer.count), size - received))
      let count = LibSSH2.read(channel, stream: 0, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<wanted]))
      if count == Int(LibSSH2.wouldBlock) {
        try waitSocket(until: deadline)
        continue
      }
      if count < 0 { throw failure(.transferFailed, "download of \(remotePath) broke: \(lastError)") }
      if count == 0 && LibSSH2.isAtEOF(channel) { break }
      do { _ = try output.writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<count])) } catch {
        throw failure(.localFailure, "cannot write the downloaded data: \(POSIX.systemError(error))")
      }
      received += Int64(count)
    }
    return size
  }
}
