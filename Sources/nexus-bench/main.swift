// Measurements for scripts/bench; prints one JSON object per figure. Not a test:
// the figures are printed and compared in the same run, never asserted.
import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
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
  return Figure(name: name, unit: unit, samples: values.count, median: sorted[sorted.count / 2], min: sorted.first!, max: sorted.last!)
}

func emit(_ figure: Figure) {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  print(String(decoding: try! encoder.encode(figure), as: UTF8.self))
}

let arguments = CommandLine.arguments.dropFirst()
let mode = arguments.first ?? "commands"
let count = Int(arguments.dropFirst().first ?? "") ?? 200
let lab = try Lab.require()
let clock = ContinuousClock()

switch mode {
case "commands":
  // Per command over one reused libssh2 session, against a fresh `ssh host true` each.
  let gate = try lab.ssh("gate")
  _ = try await gate.runChecked(.argv(["true"]))
  var reused: [Double] = []
  for _ in 0..<count {
    let start = clock.now
    _ = try await gate.runChecked(.argv(["true"]))
    reused.append((clock.now - start).secondsValue * 1000)
  }
  emit(figure("libssh2 reused session, per command", reused))
  await gate.close()
  let local = LocalTransport()
  let address = try lab.value("GATE_IP")
  var fresh: [Double] = []
  for _ in 0..<max(10, count / 10) {
    let start = clock.now
    _ = try await local.runChecked(.argv([
      "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(lab.knownHosts)",
      "-i", lab.identity, "root@\(address)", "true",
    ]))
    fresh.append((clock.now - start).secondsValue * 1000)
  }
  emit(figure("fresh ssh per command", fresh))
case "transfer":
  let scratch = try ScratchDirectory()
  let file = scratch.file("payload.bin")
  _ = try await LocalTransport().runChecked(.shell("head -c \(count)M /dev/urandom > \(ShellQuote.quote(file))"))
  let gate = try lab.ssh("gate")
  var up: [Double] = [], down: [Double] = []
  for round in 0..<3 {
    let remote = "/tmp/nexus-bench-\(round).bin"
    var start = clock.now
    _ = try await gate.upload(from: file, to: remote, mode: 0o600)
    up.append((clock.now - start).secondsValue)
    start = clock.now
    _ = try await gate.download(from: remote, to: scratch.file("back.bin"))
    down.append((clock.now - start).secondsValue)
    _ = try await gate.run(.argv(["rm", "-f", remote]))
  }
  emit(figure("upload \(count) MiB, verified", unit: "s", up))
  emit(figure("download \(count) MiB, verified", unit: "s", down))
case "engine":
  // A runbook of N `true` steps on the gate through the engine (journal fsync per record,
  // bookkeeping, progress output), against the same N commands on a bare session.
  let scratch = try ScratchDirectory()
  let steps = (1...count).map { "  - { id: s\($0), host: gate, action: shell, with: { argv: [\"true\"] } }" }
  let file = try scratch.write("bench.yaml", "runbook: bench\nsteps:\n" + steps.joined(separator: "\n") + "\n")
  let runbook = try RunbookLoader.load(file: file)
  let environment = try lab.environment()
  var engineTimes: [Double] = []
  var bareTimes: [Double] = []
  for round in 0..<3 {
    let options = RunOptions(stateDirectory: scratch.file("state-\(round)"), toolVersion: "bench")
    let engine = RunEngine(runbook: runbook, environment: environment, options: options)
    let start = clock.now
    let (exit, _) = await engine.start()
    guard exit == .done else { fatalError("bench run failed: \(exit)") }
    engineTimes.append((clock.now - start).secondsValue * 1000 / Double(count))
    let gate = try lab.ssh("gate")
    let bareStart = clock.now
    for _ in 0..<count { _ = try await gate.runChecked(.argv(["true"])) }
    bareTimes.append((clock.now - bareStart).secondsValue * 1000 / Double(count))
    await gate.close()
  }
  emit(figure("engine, per step (\(count)-step runbook)", engineTimes))
  emit(figure("bare session, per command (same \(count))", bareTimes))
default:
  FileHandle.standardError.write(Data("usage: nexus-bench commands [N] | transfer [MiB] | engine [N]\n".utf8))
  exit(2)
}
