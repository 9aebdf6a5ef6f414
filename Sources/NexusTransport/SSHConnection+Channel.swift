/// How a command on a channel ended.
enum ChannelOutcome {
  case exited(status: Int32, signal: String?)
  case deadlineReached
  case cancelled
}

extension SSHConnection {
  /// Runs `commandLine` through the remote account's shell on a new channel.
  ///
  /// `stdin` is sent, then end-of-file. Output is handed to `onOutput` as it
  /// arrives. When the deadline passes or `isCancelled` turns true, `onStop` is
  /// called (to end the remote process group over another channel) before this
  /// channel is closed.
  func execute(
    _ commandLine: String, stdin: [UInt8]?, deadline: ContinuousClock.Instant?, isCancelled: () -> Bool,
    onOutput: (OutputStream, UnsafeRawBufferPointer) -> Void, onStop: (ChannelOutcome) -> Void
  ) throws(TransportError) -> ChannelOutcome {
    let channel = try openChannel(deadline: deadline ?? .now + .seconds(60))
    defer { LibSSH2.free(channel: channel) }
    try retry(until: deadline, code: .protocolError, what: "starting the command") {
      LibSSH2.exec(channel, commandLine)
    }
    if let stdin, !stdin.isEmpty {
      var offset = 0
      while offset < stdin.count {
        let written = stdin.withUnsafeBytes { LibSSH2.write(channel, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        if written == Int(LibSSH2.wouldBlock) {
          try waitSocket(until: deadline)
          continue
        }
        if written < 0 { throw failure(.connectionLost, "writing standard input: \(lastError)") }
        offset += written
      }
    }
    try retry(until: deadline, code: .connectionLost, what: "closing standard input") { LibSSH2.sendEOF(channel) }

    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 * 1024, alignment: 8)
    defer { buffer.deallocate() }
    var outcome: ChannelOutcome?
    while outcome == nil {
      var progressed = false
      for (streamID, stream) in [(Int32(0), OutputStream.stdout), (Int32(1), OutputStream.stderr)] {
        while true {
          let count = LibSSH2.read(channel, stream: streamID, into: buffer)
          if count > 0 {
            onOutput(stream, UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            progressed = true
            continue
          }
          if count == 0 || count == Int(LibSSH2.wouldBlock) { break }
          throw failure(
            .connectionLost, "the connection broke while the command ran: \(lastError)",
            hint: "the command may still be running on the host; check it before retrying")
        }
      }
      if LibSSH2.isAtEOF(channel) {
        outcome = .exited(status: 0, signal: nil)
        break
      }
      if isCancelled() {
        outcome = .cancelled
        break
      }
      if let deadline, ContinuousClock.now >= deadline {
        outcome = .deadlineReached
        break
      }
      if !progressed { try waitSocket(until: deadline, slice: true) }
      sendKeepalive()
    }
    if case .exited = outcome {
      // The command closed its output; it may still run. Its exit status comes just
      // before the host closes the channel: wait for that, still honouring the
      // deadline and an interrupt, instead of assuming it finished.
      while true {
        let status = LibSSH2.waitClosed(channel)
        if status == 0 { break }
        guard status == LibSSH2.wouldBlock else {
          throw failure(
            .connectionLost, "the host did not report how the command ended: \(lastError)",
            hint: "the command may still be running on the host; check it before retrying")
        }
        if isCancelled() {
          outcome = .cancelled
          break
        }
        if let deadline, ContinuousClock.now >= deadline {
          outcome = .deadlineReached
          break
        }
        try waitSocket(until: deadline, slice: true)
        sendKeepalive()
      }
      if case .exited = outcome {
        _ = waitLoop(deadline: .now + .seconds(10)) { LibSSH2.close(channel) }
        let signal = session.flatMap { LibSSH2.exitSignal(channel, session: $0) }
        return .exited(status: LibSSH2.exitStatus(channel), signal: signal)
      }
    }
    let ending = outcome ?? .cancelled
    onStop(ending)
    _ = waitLoop(deadline: .now + .seconds(10)) { LibSSH2.close(channel) }
    return ending
  }

  private func openChannel(deadline: ContinuousClock.Instant) throws(TransportError) -> OpaquePointer {
    guard let session else { throw failure(.localFailure, "not connected") }
    while true {
      if let channel = LibSSH2.openChannel(session) { return channel }
      guard LibSSH2.lastErrno(session) == LibSSH2.wouldBlock else {
        throw failure(
          .unreachable, "cannot open a channel: \(lastError)",
          hint: "the session may have dropped; the next command reconnects")
      }
      try waitSocket(until: deadline)
    }
  }
}
