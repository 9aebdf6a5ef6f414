import Foundation
import NexusCore
import NexusTestSupport
import NexusTransport
import Testing

@Suite("Local transport")
struct LocalTransportTests {
  let local = LocalTransport(host: "server")

  @Test("quoted hostile strings reach the shell as literal arguments")
  func quotingRoundTrip() async throws {
    let hostile = ["'; touch /tmp/nexus-dr-pwned #", "$(id)", "`id`", "a\nb", "it's", "Zürich", "*", "", "$HOME", "\\"]
    let line = ShellQuote.commandLine(["printf", "%s\\0"] + hostile)
    let result = try await local.runChecked(.shell(line))
    let received = result.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
      String(decoding: $0, as: UTF8.self)
    }
    #expect(received == hostile)
    #expect(!FileManager.default.fileExists(atPath: "/tmp/nexus-dr-pwned"))
  }

  @Test("exit status, stdout and stderr are kept apart")
  func exitAndStreams() async throws {
    let result = try await local.run(.argv(["sh", "-c", "echo out; echo err >&2; exit 7"]))
    #expect(result.exitCode == 7)
    #expect(result.stdoutText == "out\n")
    #expect(result.stderrText == "err\n")
    await #expect(throws: TransportError.self) {
      try await local.runChecked(.argv(["sh", "-c", "echo boom >&2; exit 3"]))
    }
  }

  @Test("a failed command's error names the host, the status and stderr")
  func commandFailedMessage() async throws {
    do {
      _ = try await local.runChecked(.argv(["sh", "-c", "echo 'disk is full' >&2; exit 3"]))
      Issue.record("did not throw")
    } catch {
      #expect(error.code == .commandFailed)
      #expect(error.description.contains("server"))
      #expect(error.description.contains("exit status 3"))
      #expect(error.description.contains("disk is full"))
    }
  }

  @Test("stdin and environment variables reach the command")
  func stdinAndEnvironment() async throws {
    var command = HostCommand(.argv(["sh", "-c", "cat; printf '%s' \"$NEXUS_TEST\""]))
    command.stdin = Array("from stdin\n".utf8)
    command.environment = ["NEXUS_TEST": "$(id) 'quoted'"]
    let result = try await local.runChecked(command)
    #expect(result.stdoutText == "from stdin\n$(id) 'quoted'")
  }

  @Test("capture stops at the limit but the stderr tail is kept")
  func captureLimit() async throws {
    var command = HostCommand(
      .argv(["sh", "-c", "head -c 100000 /dev/zero; head -c 50000 /dev/zero >&2; echo LAST-LINE >&2"]))
    command.captureLimit = 1000
    let streamed = Locked(0)
    let result = try await local.run(command) { stream, bytes in
      if stream == .stdout { streamed.withLock { $0 += bytes.count } }
    }
    #expect(result.stdout.count == 1000)
    #expect(result.stdoutTruncated)
    #expect(streamed.value == 100_000)
    #expect(result.stderrTail.hasSuffix("LAST-LINE\n"))
  }

  @Test("a timeout ends the command and its children")
  func timeoutKillsGroup() async throws {
    let marker = "9\(Int.random(in: 100_000...999_999)).5"
    do {
      _ = try await local.run(
        .argv(["sh", "-c", "sleep \(marker) & sleep \(marker); wait"], timeout: .milliseconds(300)))
      Issue.record("did not time out")
    } catch {
      #expect(error.code == .timeout)
    }
    let left = try await local.run(.argv(["pgrep", "-f", "sleep \(marker)"]))
    #expect(left.exitCode == 1, "still running: \(left.stdoutText)")
  }

  @Test("cancelling the task ends the command")
  func cancellation() async throws {
    let marker = "8\(Int.random(in: 100_000...999_999)).5"
    let task = Task { try await local.run(.argv(["sleep", marker])) }
    // Wait until the process really runs, then cancel.
    while try await local.run(.argv(["pgrep", "-f", "sleep \(marker)"])).exitCode != 0 { await Task.yield() }
    task.cancel()
    let outcome = await task.result
    guard case .failure(let error) = outcome, let transportError = error as? TransportError else {
      Issue.record("expected an interrupted error, got \(outcome)")
      return
    }
    #expect(transportError.code == .interrupted)
    #expect(try await local.run(.argv(["pgrep", "-f", "sleep \(marker)"])).exitCode == 1)
  }

  @Test("a missing program is a clear local error")
  func missingProgram() async {
    do {
      _ = try await local.run(.argv(["/nonexistent/program"]))
      Issue.record("did not throw")
    } catch {
      #expect(error.code == .localFailure)
      #expect(error.description.contains("/nonexistent/program"))
    }
  }

  @Test("a local copy is verified and atomic")
  func localCopy() async throws {
    let scratch = try ScratchDirectory()
    let source = try scratch.write("a.bin", String(repeating: "nexus", count: 10_000))
    let result = try await local.upload(from: source, to: scratch.file("b.bin"), mode: 0o600)
    #expect(result.bytes == 50_000)
    #expect(FileManager.default.contentsEqual(atPath: source, andPath: scratch.file("b.bin")))
    #expect(!FileManager.default.fileExists(atPath: scratch.file("b.bin.nexus-dr-partial")))
  }
}
