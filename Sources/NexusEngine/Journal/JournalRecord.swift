import Foundation

/// One line of `journal.jsonl`. Every record has a type and a time; the other
/// fields depend on the type. Secrets are redacted before a record is built.
public struct JournalRecord: Codable, Sendable {
  public enum Kind: String, Codable, Sendable {
    case runStarted = "run-started"
    case runResumed = "run-resumed"
    case preflight
    case stepStarted = "step-started"
    case stepCompleted = "step-completed"
    case stepFailed = "step-failed"
    case stepSkipped = "step-skipped"
    case answer
    case interrupted
    case runFinished = "run-finished"
  }

  public var type: Kind
  public var time: Date

  // run-started / run-resumed
  public var runID: String?
  public var runbook: String?
  public var runbookTitle: String?
  public var runbookFile: String?
  public var contentHash: String?
  public var environment: String?
  public var operatorName: String?
  public var machine: String?
  public var toolVersion: String?
  public var pid: Int32?
  public var inputs: [String: String]?
  public var steps: [String]?
  /// `--host NAME=…` overrides this start or resume ran with.
  public var hostOverrides: [String]?

  // steps
  public var step: String?
  public var title: String?
  public var host: String?
  public var attempt: Int?
  public var command: String?
  public var outputs: [String: String]?
  public var durationMs: Int64?
  public var exitStatus: Int32?
  public var bytes: Int64?
  public var error: String?
  public var failure: StepFailure.Kind?
  public var reason: String?
  public var willRetry: Bool?

  // preflight
  public var check: CheckResult?

  // answers
  public var question: String?
  public var answer: String?
  public var answerSource: String?

  // run-finished
  public var state: RunState?

  public init(_ type: Kind, time: Date = Date()) {
    self.type = type
    self.time = time
  }
}

/// Where a run stands.
public enum RunState: String, Codable, Sendable {
  case running
  case completed
  /// A step failed; `resume` continues from it.
  case failed
  /// Preflight failed; nothing changed.
  case preflightFailed = "preflight-failed"
  /// The operator declined a confirmation.
  case declined
  /// Stopped by Ctrl-C, SIGTERM, a crash or an unanswered question; `resume` continues.
  case interrupted

  public var isFinished: Bool { self == .completed || self == .preflightFailed }
}
