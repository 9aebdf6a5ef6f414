import Foundation
import NexusCore
import NexusTestSupport
import NexusTransport
import Testing

extension LabSuites {
  /// The SSH transport against the lab's real sshd hosts.
  @Suite("SSH transport (lab)", .serialized)
  struct SSHTransportLabTests {
    let lab: Lab

    init() throws { lab = try Lab.require() }

    @Test("one session carries 120 commands: same TCP connection, same sshd process")
    func manyCommandsOneSession() async throws {
      try await lab.withSSH("gate") { gate in
        var connections = Set<String>()
        for index in 0..<120 {
          // SSH_CONNECTION holds the client's port; PPID is sshd's per-connection process.
          let result = try await gate.runChecked(.shell("echo \"$SSH_CONNECTION $PPID\"; echo \(index)"))
          let lines = result.stdoutText.split(separator: "\n")
          #expect(lines.count == 2 && lines[1] == "\(index)")
          connections.insert(String(lines[0]))
        }
        #expect(connections.count == 1, "\(connections)")
      }
    }

    @Test("hostname answers from inside each host")
    func hostnames() async throws {
      for (role, name) in [("server", "nexus-server"), ("gate", "nexus-gate"), ("gate-standby", "nexus-gate-standby")] {
        try await lab.withSSH(role) { transport in
          let result = try await transport.runChecked(.argv(["hostname"]))
          #expect(result.stdoutText == "\(name)\n")
        }
      }
    }

    @Test("a timeout ends the remote command and its children, checked on the host")
    func timeoutKillsRemote() async throws {
      try await lab.withSSH("gate") { gate in
        let marker = "7\(Int.random(in: 100_000...999_999)).5"
        do throws(TransportError) {
          _ = try await gate.run(.argv(["sh", "-c", "sleep \(marker) & sleep \(marker); wait"], timeout: .seconds(1)))
          Issue.record("did not time out")
        } catch {
          #expect(error.code == .timeout)
          #expect(error.host == "gate")
        }
        let left = try await gate.run(.argv(["pgrep", "-f", "sleep \(marker)"]))
        #expect(left.exitCode == 1, "still running on the gate: \(left.stdoutText)")
        // The session is still usable after a timeout.
        #expect(try await gate.runChecked(.argv(["echo", "alive"])).stdoutText == "alive\n")
      }
    }

    @Test("cancelling the task ends the remote command, checked on the host")
    func cancellationKillsRemote() async throws {
      try await lab.withSSH("gate") { gate in
        try await lab.withSSH("gate") { probe in
          let marker = "6\(Int.random(in: 100_000...999_999)).5"
          let task = Task { try await gate.run(.argv(["sleep", marker])) }
          while try await probe.run(.argv(["pgrep", "-f", "sleep \(marker)"])).exitCode != 0 { await Task.yield() }
          task.cancel()
          guard case .failure(let error) = await task.result, let transportError = error as? TransportError else {
            Issue.record("expected an interrupted error")
            return
          }
          #expect(transportError.code == .interrupted)
          #expect(try await probe.run(.argv(["pgrep", "-f", "sleep \(marker)"])).exitCode == 1)
        }
      }
    }

    @Test("stdout, stderr, exit status and signals come back apart")
    func streamsAndStatus() async throws {
      try await lab.withSSH("server") { server in
        let result = try await server.run(.argv(["sh", "-c", "echo out; echo err >&2; exit 7"]))
        #expect(result.exitCode == 7)
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
        do throws(TransportError) {
          _ = try await server.runChecked(.argv(["sh", "-c", "echo 'no space left on device' >&2; exit 4"]))
          Issue.record("did not throw")
        } catch {
          #expect(error.code == .commandFailed)
          #expect(error.description.contains("server"))
          #expect(error.description.contains("exit status 4"))
          #expect(error.description.contains("no space left on device"))
        }
        let killed = try await server.run(.argv(["sh", "-c", "kill -TERM $$"]))
        #expect(killed.termination == .signaled("TERM"))
      }
    }

    @Test("output streams as it comes, in order")
    func streaming() async throws {
      try await lab.withSSH("gate") { gate in
        let chunks = Locked([UInt8]())
        let result = try await gate.runChecked(.argv(["seq", "1", "20000"])) { stream, bytes in
          if stream == .stdout { chunks.withLock { $0 += bytes } }
        }
        let expected = (1...20000).map(String.init).joined(separator: "\n") + "\n"
        #expect(String(decoding: chunks.value, as: UTF8.self) == expected)
        #expect(result.stdoutText == expected)
      }
    }

    @Test(
      "property: 500 random arguments (quotes, $, backticks, newlines, control characters, non-ASCII) arrive on the gate byte for byte"
    )
    func randomArguments() async throws {
      try await lab.withSSH("gate") { gate in
        var random = SplitMix(state: UInt64(ProcessInfo.processInfo.environment["NEXUS_FUZZ_SEED"] ?? "") ?? 20_261_127)
        for round in 0..<25 {
          let sent = (0..<20).map { _ in random.shellArgument() }
          let result = try await gate.runChecked(.argv(["printf", "%s\\0"] + sent))
          let received = result.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
          }
          #expect(received == sent, "round \(round): \(sent.map { $0.debugDescription })")
        }
      }
    }

    @Test("hostile arguments arrive as literal strings")
    func hostileArguments() async throws {
      try await lab.withSSH("gate") { gate in
        let hostile = [
          "'; touch /tmp/pwned #", "$(id)", "`id`", "a\nb", "it's", "Zürich", "*", "", "$HOME", "\\", "a\"b",
        ]
        _ = try await gate.run(.argv(["rm", "-f", "/tmp/pwned"]))
        let result = try await gate.runChecked(.argv(["printf", "%s\\0"] + hostile))
        let received = result.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
          String(decoding: $0, as: UTF8.self)
        }
        #expect(received == hostile)
        #expect(try await gate.run(.argv(["test", "-e", "/tmp/pwned"])).exitCode == 1)
      }
    }

    @Test("stdin and environment variables reach the remote command")
    func stdinAndEnvironment() async throws {
      try await lab.withSSH("gate") { gate in
        var command = HostCommand(.argv(["sh", "-c", "cat; printf '%s' \"$NEXUS_TEST\""]))
        command.stdin = Array(repeating: UInt8(ascii: "x"), count: 200_000) + Array("\n".utf8)
        command.environment = ["NEXUS_TEST": "$(id) 'quoted'; rm -rf /"]
        let result = try await gate.runChecked(command)
        #expect(result.stdout.count == 200_001 + "$(id) 'quoted'; rm -rf /".utf8.count)
        #expect(result.stdoutText.hasSuffix("\n$(id) 'quoted'; rm -rf /"))
      }
    }

    @Test("a 50 MB binary file goes up and comes back with the same checksum")
    func fileTransferBothWays() async throws {
      let scratch = try ScratchDirectory()
      let original = scratch.file("payload.bin")
      _ = try await LocalTransport().runChecked(.shell("head -c 52428800 /dev/urandom > \(ShellQuote.quote(original))"))
      try await lab.withSSH("gate") { gate in
        let remote = "/tmp/nexus-dr-transfer-\(UUID().uuidString.prefix(8)).bin"
        let up = try await gate.upload(from: original, to: remote, mode: 0o600)
        #expect(up.bytes == 52_428_800)
        let remoteDigest = try await gate.remoteDigest(remote)
        #expect(remoteDigest.hex == up.sha256)
        let mode = try await gate.runChecked(.argv(["stat", "-c", "%a", remote])).stdoutText
        #expect(mode == "600\n")
        let back = scratch.file("back.bin")
        let down = try await gate.download(from: remote, to: back)
        #expect(down.sha256 == up.sha256)
        #expect(FileManager.default.contentsEqual(atPath: original, andPath: back))
        _ = try await gate.run(.argv(["rm", "-f", remote]))
      }
    }

    @Test("a changed host key is refused before anything is sent")
    func changedHostKey() async throws {
      let scratch = try ScratchDirectory()
      let known = try String(contentsOfFile: lab.knownHosts, encoding: .utf8)
      let gateAddress = try lab.value("GATE_IP")
      let serverAddress = try lab.value("SERVER_IP")
      // The gate's address, with the server's key: what a man in the middle looks like.
      let serverLine = try #require(known.split(separator: "\n").first { $0.hasPrefix(serverAddress + " ") })
      let forged = try scratch.write("known_hosts", gateAddress + serverLine.dropFirst(serverAddress.count) + "\n")
      try await lab.withSSH("gate", knownHosts: forged) { gate in
        do throws(TransportError) {
          _ = try await gate.run(.argv(["touch", "/tmp/should-not-exist"]))
          Issue.record("connected despite a changed key")
        } catch {
          #expect(error.code == .hostKeyChanged)
          #expect(error.description.contains("HOST KEY CHANGED"))
          #expect(error.description.contains("SHA256:"))
          #expect(error.description.contains(gateAddress))
        }
      }
    }

    @Test("a host offering rsa, ecdsa and ed25519 keys is trusted through whichever one known_hosts holds")
    func everyHostKeyType() async throws {
      let scratch = try ScratchDirectory()
      let gateAddress = try lab.value("GATE_IP")
      for type in ["rsa", "ecdsa", "ed25519"] {
        let key = try String(
          contentsOfFile: "\(lab.directory)/hosts/nexus-gate/ssh_host_\(type)_key.pub", encoding: .utf8)
        let fields = key.split(separator: " ")
        let known = try scratch.write("known_hosts_\(type)", "\(gateAddress) \(fields[0]) \(fields[1])\n")
        try await lab.withSSH("gate", knownHosts: known) { gate in
          do throws(TransportError) {
            let result = try await gate.runChecked(.argv(["hostname"]))
            #expect(result.stdoutText == "nexus-gate\n", "known_hosts holding the \(type) key")
          } catch {
            // libssh2 1.10 (Debian 12) checks rsa host keys with SHA-1 signatures only, which
            // OpenSSH 8.8 and later refuse: an rsa-only entry must say so and what to add.
            #expect(type == "rsa", "known_hosts holding the \(type) key: \(error)")
            #expect(error.code == .hostKeyUnknown)
            #expect(error.description.contains("holds only ssh-rsa keys"), "\(error)")
            #expect(error.description.contains("ssh_host_ed25519_key.pub"))
          }
        }
      }
      // The server's ed25519 key under the gate's address: the gate is asked for its ed25519
      // key, and the refusal names that type and the console file to compare with.
      let serverKey = try String(
        contentsOfFile: "\(lab.directory)/hosts/nexus-server/ssh_host_ed25519_key.pub", encoding: .utf8)
      let fields = serverKey.split(separator: " ")
      let forged = try scratch.write("known_hosts_forged", "\(gateAddress) \(fields[0]) \(fields[1])\n")
      try await lab.withSSH("gate", knownHosts: forged) { gate in
        do throws(TransportError) {
          _ = try await gate.run(.argv(["true"]))
          Issue.record("connected despite another host's key")
        } catch {
          #expect(error.code == .hostKeyChanged)
          #expect(error.description.contains("presented the ssh-ed25519 key"))
          #expect(error.description.contains("/etc/ssh/ssh_host_ed25519_key.pub"))
        }
      }
    }

    @Test("an unknown host is refused with its fingerprint and how to accept it")
    func unknownHostKey() async throws {
      let scratch = try ScratchDirectory()
      let empty = try scratch.write("known_hosts", "")
      try await lab.withSSH("gate", knownHosts: empty) { gate in
        do throws(TransportError) {
          _ = try await gate.run(.argv(["true"]))
          Issue.record("connected to an unknown host")
        } catch {
          #expect(error.code == .hostKeyUnknown)
          #expect(error.description.contains("SHA256:"))
          #expect(error.description.contains("ssh-ed25519"))
          #expect(error.description.contains("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"))
          #expect(error.description.contains(">> \(empty)"))
        }
      }
    }

    @Test("a key the host does not know is refused as authentication")
    func authenticationRefused() async throws {
      let scratch = try ScratchDirectory()
      let key = scratch.file("stranger")
      _ = try await LocalTransport().runChecked(.argv(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]))
      try await lab.withSSH("gate", identity: key) { gate in
        do throws(TransportError) {
          _ = try await gate.run(.argv(["true"]))
          Issue.record("a stranger's key was accepted")
        } catch {
          #expect(error.code == .authenticationRefused)
          #expect(error.description.contains("gate"))
          #expect(error.description.contains("'root'"))
        }
      }
    }

    @Test("an unreachable host is reported within the connect timeout")
    func unreachable() async throws {
      let address = try lab.unusedAddress()
      let clock = ContinuousClock()
      let start = clock.now
      try await SSHTransport.with(
        host: "gate", target: .init(address: address, user: "root"),
        settings: SSHSettings(identity: lab.identity, knownHosts: lab.knownHosts, connectTimeout: .seconds(2))
      ) { nowhere in
        do throws(TransportError) {
          _ = try await nowhere.run(.argv(["true"]))
          Issue.record("reached a host that does not exist")
        } catch {
          #expect(error.code == .unreachable)
          #expect(error.description.contains(address))
        }
      }
      // The connect timeout bounds the wait (with room for a loaded machine).
      #expect(clock.now - start < .seconds(6))
    }
  }
}
