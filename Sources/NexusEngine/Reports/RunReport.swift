import Foundation
import NexusCore

/// A run's report, built from its journal alone (never from memory), so a report
/// written after a crash, or on demand later, tells the same story.
public struct RunReport: Codable, Sendable {
  public struct StepLine: Codable, Sendable {
    public var index: Int
    public var id: String
    public var title: String
    public var host: String
    /// completed, failed, skipped, continued (failed, tolerated), interrupted, not run
    public var status: String
    public var attempts: Int
    public var command: String
    public var startOffsetMs: Int64
    public var durationMs: Int64
    public var duration: String
    public var outputs: [KeyValue]
    public var error: String
    public var note: String
    // Timeline bar, as percentages of the run's span.
    public var barLeft: String
    public var barWidth: String
    public var hasOutputs: Bool
    public var hasError: Bool
  }

  public struct KeyValue: Codable, Sendable {
    public var key: String
    public var value: String
  }

  public struct AnswerLine: Codable, Sendable {
    public var question: String
    public var answer: String
    public var source: String
  }

  public var runID: String
  public var runbook: String
  public var title: String
  public var environment: String
  public var operatorName: String
  public var machine: String
  public var toolVersion: String
  public var state: String
  public var started: String
  public var ended: String
  public var durationMs: Int64
  public var duration: String
  public var inputs: [KeyValue]
  /// `--host` overrides, comma-separated; empty when none.
  public var hostOverrides: String
  public var hasHostOverrides: Bool
  public var preflight: [CheckResult]
  public var steps: [StepLine]
  public var answers: [AnswerLine]
  public var resumes: Int
  public var hasPreflight: Bool
  public var hasAnswers: Bool
  public var hasInputs: Bool

  public static func build(history: RunHistory, runbook: Runbook?) -> RunReport {
    let records = history.records
    let start = history.startTime ?? Date()
    let end = history.lastTime ?? start
    let span = max(1, end.timeIntervalSince(start) * 1000)
    let order = history.started?.steps ?? runbook?.steps.map(\.id) ?? []
    var lines: [StepLine] = []
    for (offset, id) in order.enumerated() {
      let mine = records.filter { $0.step == id }
      let startedRecord = mine.first { $0.type == .stepStarted }
      let last = mine.last { [.stepCompleted, .stepFailed, .stepSkipped].contains($0.type) && $0.willRetry != true }
      let status: String
      switch last?.type {
      case .stepCompleted?: status = "completed"
      case .stepSkipped?: status = "skipped"
      case .stepFailed?:
        status = last?.reason != nil ? "continued" : (last?.failure == .declined ? "declined" : "failed")
      default: status = startedRecord != nil ? "interrupted" : "not run"
      }
      let begin = startedRecord?.time ?? last?.time ?? start
      let finish = last?.time ?? (startedRecord != nil ? end : begin)
      let offsetMs = Int64(max(0, begin.timeIntervalSince(start) * 1000))
      let durationMs = Int64(max(0, finish.timeIntervalSince(begin) * 1000))
      let outputs = (last?.outputs ?? [:]).filter { $0.key != "stdout" || !($0.value.isEmpty) }
        .sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: String($0.value.prefix(300))) }
      let error = mine.filter { $0.type == .stepFailed }.compactMap(\.error).last ?? ""
      lines.append(
        StepLine(
          index: offset + 1, id: id, title: startedRecord?.title ?? runbook?.step(id)?.title ?? id,
          host: startedRecord?.host ?? runbook?.step(id)?.host ?? "—", status: status,
          attempts: mine.filter { $0.type == .stepStarted }.count,
          command: last?.command ?? startedRecord?.command ?? "", startOffsetMs: offsetMs, durationMs: durationMs,
          duration: DurationText.format(.milliseconds(durationMs)), outputs: outputs,
          error: status == "completed" ? "" : error, note: last?.reason ?? "",
          barLeft: String(format: "%.2f", Double(offsetMs) / span * 100),
          barWidth: String(format: "%.2f", max(0.4, Double(durationMs) / span * 100)),
          hasOutputs: !outputs.isEmpty, hasError: status != "completed" && !error.isEmpty))
    }
    let answers = records.filter { $0.type == .answer }.map {
      AnswerLine(question: $0.question ?? "", answer: $0.answer ?? "", source: $0.answerSource ?? "")
    }
    let preflight = records.compactMap(\.check)
    let inputs = (history.started?.inputs ?? [:]).sorted { $0.key < $1.key }.map {
      KeyValue(key: $0.key, value: $0.value)
    }
    let durationMs = Int64(end.timeIntervalSince(start) * 1000)
    return RunReport(
      runID: history.runID, runbook: history.runbookID,
      title: history.started?.runbookTitle ?? runbook?.title ?? history.runbookID,
      environment: history.environment, operatorName: history.started?.operatorName ?? "?",
      machine: history.started?.machine ?? "?", toolVersion: history.started?.toolVersion ?? "?",
      state: history.state(lockHeldByThisRun: false).rawValue, started: JournalTime.format(start),
      ended: JournalTime.format(end), durationMs: durationMs, duration: DurationText.format(.milliseconds(durationMs)),
      inputs: inputs, hostOverrides: history.allHostOverrides.joined(separator: ", "),
      hasHostOverrides: !history.allHostOverrides.isEmpty,
      preflight: preflight, steps: lines, answers: answers,
      resumes: records.filter { $0.type == .runResumed }.count, hasPreflight: !preflight.isEmpty,
      hasAnswers: !answers.isEmpty, hasInputs: !inputs.isEmpty)
  }
}
