import Foundation
import NexusCore
import NexusTransport

/// One host's answers to `hosts check`.
struct HostProbe {
  var row: [String]
  var problem: String?
  var warning: String?

  /// A median round trip above this suggests a slow login shell (e.g. `pyenv init` in ~/.bashrc).
  static let slowShell: Duration = .milliseconds(50)

  static func run(_ spec: HostSpec, transports: HostTransports, samples: Int) async -> HostProbe {
    let address: String
    switch spec.transport {
    case .local: address = "local"
    case .ssh(let host, let port, let user): address = "\(user)@\(host):\(port)"
    }
    let name = spec.optional ? "\(spec.name) (optional)" : spec.name
    do {
      let transport = try transports.transport(for: spec.name)
      let clock = ContinuousClock()
      let start = clock.now
      if let ssh = transport as? SSHTransport { try await ssh.connect() }
      let connectTime = clock.now - start
      let hostname = try await transport.runChecked(.argv(["hostname"], timeout: .seconds(20))).stdoutText
      let kernel = try await transport.runChecked(.argv(["uname", "-r"], timeout: .seconds(20))).stdoutText
      var times: [Duration] = []
      for _ in 0..<samples {
        let begin = clock.now
        _ = try await transport.runChecked(.argv(["true"], timeout: .seconds(20)))
        times.append(clock.now - begin)
      }
      let median = times.sorted()[times.count / 2]
      var warning: String?
      if median > slowShell {
        warning =
          "\(spec.name): commands take \(format(median)) each; the login shell may be slow to start (check ~/.bashrc on the host for pyenv, nvm or similar)"
      }
      return HostProbe(
        row: [name, address, hostname.trimmed, kernel.trimmed, format(connectTime), format(median), "ok"],
        warning: warning)
    } catch {
      return HostProbe(
        row: [name, address, "-", "-", "-", "-", spec.optional ? "absent (optional)" : "FAILED"],
        problem: "\(error)")
    }
  }

  static func format(_ duration: Duration) -> String {
    let ms = duration.secondsValue * 1000
    return ms < 10 ? String(format: "%.1f ms", ms) : String(format: "%.0f ms", ms)
  }
}

extension String {
  var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
