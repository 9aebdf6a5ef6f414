import Foundation

/// How a run is carried out: where its state lives and how questions are answered.
public struct RunOptions: Sendable {
  public var stateDirectory: String
  public var answers: [String: String]
  public var assumeYes: Bool
  public var interactive: Bool
  public var color: Bool
  /// `--input NAME=VALUE` values.
  public var inputs: [String: String]
  public var operatorName: String
  public var toolVersion: String
  /// `--host NAME=…` overrides in effect (already applied to the environment), for the journal.
  public var hostOverrides: [String] = []

  public init(
    stateDirectory: String, answers: [String: String] = [:], assumeYes: Bool = false, interactive: Bool = false,
    color: Bool = false, inputs: [String: String] = [:],
    operatorName: String = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment[
      "USER"] ?? NSUserName(),
    toolVersion: String
  ) {
    self.stateDirectory = stateDirectory
    self.answers = answers
    self.assumeYes = assumeYes
    self.interactive = interactive
    self.color = color
    self.inputs = inputs
    self.operatorName = operatorName
    self.toolVersion = toolVersion
  }
}

/// How a run ended, as DESIGN.md's exit statuses.
public enum RunExit: Int32, Sendable {
  case done = 0
  case stepFailed = 1
  case invalidInput = 2
  case checkFailed = 3
  case declined = 4
  case locked = 5
  case interrupted = 130
}

/// A run's directory under the state directory: `runs/RUN-ID/` with
/// `journal.jsonl`, the runbook as it was at the start, and the reports.
public struct RunDirectory: Sendable {
  public var stateDirectory: String
  public var runID: String

  public init(stateDirectory: String, runID: String) {
    self.stateDirectory = stateDirectory
    self.runID = runID
  }

  public var path: String { "\(stateDirectory)/runs/\(runID)" }
  public var journal: String { path + "/journal.jsonl" }
  public var runbookCopy: String { path + "/runbook.yaml" }
  public func report(_ format: String) -> String { "\(path)/report.\(format)" }

  public static func newID(runbook: String, date: Date = Date()) -> String {
    let stamp = JournalTime.compact(date)
    let suffix = String(UInt32.random(in: 0..<0x10000), radix: 16)
    return "\(stamp)-\(runbook)-\(String(repeating: "0", count: 4 - suffix.count) + suffix)"
  }

  /// Every run in the state directory, oldest first.
  public static func all(stateDirectory: String) -> [RunHistory] {
    let root = stateDirectory + "/runs"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    return names.sorted().compactMap { try? RunHistory.read(directory: "\(root)/\($0)") }
      .sorted { ($0.startTime ?? .distantPast) < ($1.startTime ?? .distantPast) }
  }
}
