import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import Testing

@Suite("Journal: JournalWriter, JournalRecord and RunHistory")
struct JournalTests {
  let scratch: ScratchDirectory

  init() throws {
    scratch = try ScratchDirectory("nexus-journal")
  }

  var path: String { scratch.file("journal.jsonl") }

  func write(_ records: [JournalRecord]) throws {
    let journal = try JournalWriter(path: path)
    for record in records { try journal.append(record) }
  }

  func read() throws -> RunHistory { try RunHistory.read(directory: scratch.path) }

  func started(_ id: String = "run-1", overrides: [String]? = nil) -> JournalRecord {
    var record = JournalRecord(.runStarted, time: Date(timeIntervalSince1970: 1_800_000_000.25))
    record.runID = id
    record.runbook = "nightly"
    record.environment = "staging"
    record.hostOverrides = overrides
    return record
  }

  @Test("one JSON line per record, read back as written: types, steps, outputs, times to the millisecond")
  func roundTrip() throws {
    var completed = JournalRecord.step(.stepCompleted, "dump", outputs: ["path": "/mnt/nas/daily/x.dump"])
    completed.durationMs = 1234
    completed.bytes = 42
    try write([started(), .step(.stepStarted, "dump"), completed])
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(
      separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 4 && lines.last == "", "three lines, each ended")
    let history = try read()
    #expect(history.events == ["run-started", "step-started dump", "step-completed dump"])
    #expect(history.runID == "run-1" && history.runbookID == "nightly" && history.environment == "staging")
    #expect(history.startTime == Date(timeIntervalSince1970: 1_800_000_000.25))
    #expect(history.records[2].outputs == ["path": "/mnt/nas/daily/x.dump"])
    #expect(history.records[2].durationMs == 1234 && history.records[2].bytes == 42)
    #expect(lines[0].contains(#""time":"2027-01-15T08:00:00.250Z""#), "\(lines[0])")
  }

  @Test("the journal is created readable and writable by its owner only")
  func privateMode() throws {
    try write([started()])
    #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
  }

  @Test("a record cut short by a crash is dropped when the journal is reopened; the next one starts on its own line")
  func cutShortOnReopen() throws {
    try write([started(), .step(.stepStarted, "dump")])
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(#"{"step":"dump","time":"2027-01-15T08:0"#.utf8))
    try handle.close()
    #expect(try read().records.count == 2, "a cut-short last line is ignored when read")
    try write([.step(.stepCompleted, "dump")])
    let history = try read()
    #expect(history.events == ["run-started", "step-started dump", "step-completed dump"])
  }

  @Test("an unreadable line before the last is a corrupt journal, named by its line")
  func corruptLine() throws {
    try write([started()])
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("not json\n".utf8))
    try handle.close()
    try write([.step(.stepStarted, "dump")])
    #expect {
      try read()
    } throws: { error in
      guard let error = error as? RunError else { return false }
      return error.code == .corruptJournal && error.message.contains("journal.jsonl:2")
    }
  }

  @Test("no journal: an unknown run")
  func missing() {
    #expect {
      try read()
    } throws: { error in
      (error as? RunError)?.code == .unknownRun
    }
  }

  @Test("settled steps: completed, skipped, failed with on_failure continue; not a plain failure")
  func settled() throws {
    var continued = JournalRecord.step(.stepFailed, "note")
    continued.reason = "only a note"
    var stopped = JournalRecord.step(.stepFailed, "dump")
    stopped.failure = .failed
    try write([
      started(), .step(.stepCompleted, "check"), .step(.stepSkipped, "optional"), continued, stopped,
    ])
    #expect(try read().settledSteps == ["check", "optional", "note"])
  }

  @Test(
    "the unfinished step",
    arguments: [
      // Started, never ended: a crash or Ctrl-C.
      ([JournalRecord.step(.stepStarted, "dump")], "dump"),
      ([.step(.stepStarted, "dump"), .step(.stepCompleted, "dump")], nil),
      ([.step(.stepStarted, "dump"), .step(.stepSkipped, "dump")], nil),
      ([.step(.stepStarted, "dump"), JournalTests.failed("dump", .failed)], nil),
      // A timeout or a lost connection: the command may have taken effect.
      ([.step(.stepStarted, "dump"), JournalTests.failed("dump", .uncertain)], "dump"),
      ([.step(.stepStarted, "dump"), JournalTests.failed("dump", .uncertain, reason: "only a note")], nil),
      // A failure to be retried: the step is still under way.
      ([.step(.stepStarted, "dump"), JournalTests.failed("dump", .failed, willRetry: true)], "dump"),
      ([.step(.stepStarted, "one"), .step(.stepCompleted, "one"), .step(.stepStarted, "two")], "two"),
    ] as [([JournalRecord], String?)])
  func unfinished(records: [JournalRecord], expected: String?) throws {
    try write([started()] + records)
    #expect(try read().unfinishedStep == expected)
  }

  static func failed(_ step: String, _ kind: StepFailure.Kind, reason: String? = nil, willRetry: Bool? = nil)
    -> JournalRecord
  {
    var record = JournalRecord.step(.stepFailed, step)
    record.failure = kind
    record.reason = reason
    record.willRetry = willRetry
    return record
  }

  static func finished(_ state: RunState, at seconds: TimeInterval) -> JournalRecord {
    var record = JournalRecord(.runFinished, time: Date(timeIntervalSince1970: seconds))
    record.state = state
    return record
  }

  @Test(
    "the run's state: finished as journaled; unfinished is running with the lock, interrupted without; a resume reopens it"
  )
  func state() throws {
    try write([started()])
    #expect(try read().state(lockHeldByThisRun: true) == .running)
    #expect(try read().state(lockHeldByThisRun: false) == .interrupted)
    try write([Self.finished(.failed, at: 1_800_000_100)])
    #expect(try read().state(lockHeldByThisRun: false) == .failed)
    try write([JournalRecord(.runResumed, time: Date(timeIntervalSince1970: 1_800_000_200))])
    #expect(try read().state(lockHeldByThisRun: false) == .interrupted)
    try write([Self.finished(.completed, at: 1_800_000_300)])
    #expect(try read().state(lockHeldByThisRun: false) == .completed)
    #expect(RunState.completed.isFinished && RunState.preflightFailed.isFinished && !RunState.failed.isFinished)
  }

  @Test("outputs, answers and host overrides as the journal holds them")
  func derived() throws {
    var answer = JournalRecord(.answer)
    answer.question = "confirm.restore"
    answer.answer = "yes"
    answer.answerSource = "answers-file"
    var resumed = JournalRecord(.runResumed)
    resumed.hostOverrides = ["gate=10.0.0.9", "server=10.0.0.1"]
    try write([
      started(overrides: ["gate=10.0.0.2"]), .step(.stepCompleted, "one", outputs: ["a": "1"]),
      .step(.stepCompleted, "two", outputs: nil), answer, resumed,
    ])
    let history = try read()
    #expect(history.completedOutputs == ["one": ["a": "1"], "two": [:]])
    #expect(history.answers == ["confirm.restore": "yes"])
    #expect(history.hostOverrides == ["gate=10.0.0.9", "server=10.0.0.1"], "the latest start or resume's")
    #expect(history.allHostOverrides == ["gate=10.0.0.2", "gate=10.0.0.9", "server=10.0.0.1"])
  }

  @Test("journal times: ISO 8601 in UTC with milliseconds, parsed back to the same instant")
  func times() throws {
    let date = Date(timeIntervalSince1970: 1_795_000_000.5)
    let text = JournalTime.format(date)
    #expect(text == "2026-11-18T11:06:40.500Z")
    #expect(JournalTime.parse(text) == date)
    #expect(JournalTime.parse("2026-11-18 09:46") == nil)
    #expect(JournalTime.compact(date) == "20261118T110640")
  }
}
