import Foundation

/// A run as its journal tells it: what ran, what completed with which outputs,
/// where it stopped. `resume`, `runs` and reports are built from this, never
/// from memory.
public struct RunHistory: Sendable {
  public var records: [JournalRecord]
  public var directory: String

  public var started: JournalRecord? { records.first { $0.type == .runStarted } }

  /// The `--host` overrides the run last started or resumed with.
  public var hostOverrides: [String] {
    records.last { $0.type == .runStarted || $0.type == .runResumed }?.hostOverrides ?? []
  }

  /// Every override any start or resume of this run used, in order, once each.
  public var allHostOverrides: [String] {
    var seen: [String] = []
    for record in records where record.type == .runStarted || record.type == .runResumed {
      for item in record.hostOverrides ?? [] where !seen.contains(item) { seen.append(item) }
    }
    return seen
  }
  public var runID: String { started?.runID ?? URL(fileURLWithPath: directory).lastPathComponent }
  public var runbookID: String { started?.runbook ?? "?" }
  public var environment: String { started?.environment ?? "?" }
  public var startTime: Date? { started?.time }
  public var lastTime: Date? { records.last?.time }

  /// Reads a journal. A last line cut short by a crash is ignored; any other
  /// unreadable line is an error.
  public static func read(directory: String) throws -> RunHistory {
    let path = directory + "/journal.jsonl"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw RunError(.unknownRun, "no journal at \(path)")
    }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
      let text = try decoder.singleValueContainer().decode(String.self)
      guard let date = JournalTime.parse(text) else {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad time \(text)"))
      }
      return date
    }
    let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
    var records: [JournalRecord] = []
    for (index, line) in lines.enumerated() {
      do {
        records.append(try decoder.decode(JournalRecord.self, from: Data(line)))
      } catch {
        if index == lines.count - 1 && data.last != UInt8(ascii: "\n") { break }
        throw RunError(.corruptJournal, "\(path):\(index + 1): unreadable journal record: \(error)")
      }
    }
    return RunHistory(records: records, directory: directory)
  }

  /// Completed steps with their recorded outputs.
  public var completedOutputs: [String: [String: String]] {
    var outputs: [String: [String: String]] = [:]
    for record in records where record.type == .stepCompleted {
      if let step = record.step { outputs[step] = record.outputs ?? [:] }
    }
    return outputs
  }

  /// Steps that need no further work: completed, skipped, or failed with `on_failure: continue`.
  public var settledSteps: Set<String> {
    var settled = Set<String>()
    for record in records {
      guard let step = record.step else { continue }
      switch record.type {
      case .stepCompleted, .stepSkipped: settled.insert(step)
      case .stepFailed where record.reason != nil: settled.insert(step)
      default: break
      }
    }
    return settled
  }

  /// The step whose outcome is unknown: it started and never reached completed,
  /// failed or skipped (a crash, Ctrl-C), or it ended by a timeout or a lost
  /// connection while its command ran.
  public var unfinishedStep: String? {
    var open: String?
    for record in records {
      switch record.type {
      case .stepStarted: open = record.step
      case .stepCompleted, .stepSkipped: if record.step == open { open = nil }
      case .stepFailed:
        if record.step == open, record.willRetry != true, record.failure != .uncertain || record.reason != nil {
          open = nil
        }
      default: break
      }
    }
    return open
  }

  /// The state as the journal shows it; a run without `run-finished` whose
  /// process is gone was interrupted (a crash looks the same as Ctrl-C here).
  public func state(lockHeldByThisRun: Bool) -> RunState {
    if let finished = records.last(where: { $0.type == .runFinished }), let state = finished.state,
      records.last(where: { $0.type == .runResumed }).map({ $0.time <= finished.time }) ?? true
    {
      return state
    }
    return lockHeldByThisRun ? .running : .interrupted
  }

  /// Answers given during the run, by question id (secrets are never recorded).
  public var answers: [String: String] {
    var answers: [String: String] = [:]
    for record in records where record.type == .answer {
      if let question = record.question, let answer = record.answer { answers[question] = answer }
    }
    return answers
  }
}
