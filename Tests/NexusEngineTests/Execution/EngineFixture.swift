import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

/// Runs of a runbook against in-memory hosts (`server`, `gate`) in a scratch state directory.
/// Every engine made here shares the same hosts, so a start and its resume are seen together.
struct EngineFixture {
  static let inventory = """
    default: staging
    environments:
      staging:
        hosts:
          server: { transport: local }
          gate:   { address: staging-gate }
        ssh:      { known_hosts: /dev/null }
      other:
        hosts:
          server: { transport: local }
          gate:   { address: other-gate }
        ssh:      { known_hosts: /dev/null }
    """

  /// How a host answers a command.
  typealias Respond = @Sendable (_ host: String, _ command: HostCommand) throws(TransportError) -> CommandResult

  let scratch: ScratchDirectory
  let inventory: Inventory
  let hosts: [String: InMemoryTransport]

  /// `respond` answers every command of every host; by default `echo` prints its arguments
  /// and anything else exits 0 in silence.
  init(respond: @escaping Respond = { _, command throws(TransportError) in EngineFixture.echo(command) }) throws {
    scratch = try ScratchDirectory("nexus-engine")
    inventory = try InventoryLoader.parse(Self.inventory, file: "inventory.yaml")
    var hosts: [String: InMemoryTransport] = [:]
    for name in ["server", "gate"] {
      hosts[name] = InMemoryTransport(host: name) { command throws(TransportError) in try respond(name, command) }
    }
    self.hosts = hosts
  }

  var stateDirectory: String { scratch.file("state") }

  /// `echo ARGS` prints ARGS; every other command exits 0 and prints nothing.
  static func echo(_ command: HostCommand) -> CommandResult {
    guard case .argv(let argv) = command.form, argv.first == "echo" else { return .exited(0) }
    return .exited(0, stdout: argv.dropFirst().joined(separator: " ") + "\n")
  }

  /// The runbook, from YAML (written to the scratch directory: its copy and hash are the file's).
  func runbook(_ yaml: String, name: String = "test.yaml") throws -> Runbook {
    try RunbookLoader.load(file: try scratch.write(name, yaml))
  }

  func engine(
    _ runbook: Runbook, environment: String = "staging", answers: [String: String] = [:], inputs: [String: String] = [:]
  ) throws -> RunEngine {
    let environment = try inventory.environment(environment)
    let hosts = self.hosts
    let transports = HostTransports(environment: environment) { spec, _ in
      hosts[spec.name] ?? InMemoryTransport(host: spec.name)
    }
    let options = RunOptions(
      stateDirectory: stateDirectory, answers: answers, inputs: inputs, operatorName: "tester", toolVersion: "test")
    return RunEngine(runbook: runbook, environment: environment, options: options, transports: transports)
  }

  /// Starts a run; its exit status and journal.
  func start(
    _ runbook: Runbook, answers: [String: String] = [:], inputs: [String: String] = [:]
  ) async throws -> (RunExit, RunHistory) {
    let (exit, runID) = try await engine(runbook, answers: answers, inputs: inputs).start()
    return (exit, try history(try #require(runID, "the run got an id")))
  }

  /// Resumes a run; its exit status and journal afterwards.
  func resume(
    _ runbook: Runbook, runID: String, environment: String = "staging", answers: [String: String] = [:]
  ) async throws -> (RunExit, RunHistory) {
    let exit = try await engine(runbook, environment: environment, answers: answers).resume(try history(runID))
    return (exit, try history(runID))
  }

  func history(_ runID: String) throws -> RunHistory {
    try RunHistory.read(directory: RunDirectory(stateDirectory: stateDirectory, runID: runID).path)
  }

  /// The commands a host ran, as command lines.
  func commands(_ host: String) -> [String] { hosts[host]?.commandLines ?? [] }

  /// A journal as a crash leaves it: the run started with `runbook`, `records` after that.
  func crashedRun(_ runbook: Runbook, environment: String = "staging", _ records: [JournalRecord]) throws -> String {
    let runID = RunDirectory.newID(runbook: runbook.id)
    let directory = RunDirectory(stateDirectory: stateDirectory, runID: runID)
    try StateDirectory.ensure(directory.path)
    try StateDirectory.write(Data(runbook.content.utf8), to: directory.runbookCopy)
    let journal = try JournalWriter(path: directory.journal)
    var started = JournalRecord(.runStarted)
    started.runID = runID
    started.runbook = runbook.id
    started.contentHash = runbook.contentHash
    started.environment = environment
    started.inputs = [:]
    started.steps = runbook.steps.map(\.id)
    try journal.append(started)
    for record in records { try journal.append(record) }
    return runID
  }
}

extension JournalRecord {
  /// A step record, as the engine writes one.
  static func step(_ type: Kind, _ step: String, outputs: [String: String]? = nil) -> JournalRecord {
    var record = JournalRecord(type)
    record.step = step
    record.outputs = outputs
    return record
  }
}

extension RunHistory {
  /// Record types with their step, in order: `step-started one`, `run-finished`.
  var events: [String] {
    records.map { record in [record.type.rawValue, record.step].compactMap { $0 }.joined(separator: " ") }
  }
}
