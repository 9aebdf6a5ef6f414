import Foundation
import NexusCore
import NexusEngine
import NexusTransport

struct Figure: Encodable {
  var name: String
  var unit: String
  var samples: Int
  var median: Double
  var min: Double
  var max: Double
}

func figure(_ name: String, unit: String = "ms", _ values: [Double]) -> Figure {
  let sorted = values.sorted()
  return Figure(
    name: name, unit: unit, samples: values.count, median: sorted.isEmpty ? 0 : sorted[sorted.count / 2],
    min: sorted.first ?? 0, max: sorted.last ?? 0)
}

func emit(_ figure: Figure) {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  guard let json = try? encoder.encode(figure) else { fatalError("a figure that does not encode: \(figure)") }
  print(String(decoding: json, as: UTF8.self))
}

/// OpenSSH with a ControlMaster: one master connection, each command a new session on it
/// (what Ansible's ControlPersist and a careful shell script get). Milliseconds per command.
func controlMaster(lab: BenchLab, address: String, count: Int) async throws -> [Double] {
  let local = LocalTransport()
  let clock = ContinuousClock()
  let socket = "/tmp/nexus-bench-cm-\(ProcessInfo.processInfo.processIdentifier)"
  let options = [
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(lab.knownHosts)", "-i",
    lab.identity,
  ]
  _ = try await local.runChecked(
    .argv(
      ["ssh"] + options + [
        "-o", "ControlMaster=yes", "-o", "ControlPersist=120", "-S", socket, "-f", "-N", "root@\(address)",
      ]))
  _ = try await local.runChecked(.argv(["ssh"] + options + ["-S", socket, "root@\(address)", "true"]))
  var times: [Double] = []
  for _ in 0..<count {
    let start = clock.now
    _ = try await local.runChecked(.argv(["ssh"] + options + ["-S", socket, "root@\(address)", "true"]))
    times.append((clock.now - start).secondsValue * 1000)
  }
  _ = try await local.run(.argv(["ssh", "-S", socket, "-O", "exit", "root@\(address)"]))
  return times
}
