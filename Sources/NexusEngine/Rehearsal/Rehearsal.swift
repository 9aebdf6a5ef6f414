import Foundation
import NexusCore

/// One rehearsal's result, kept in `STATE/rehearsals/ID/rehearsal.json` (0600): what was
/// broken and when, the recovery run, the measured recovery time and data loss against the
/// objectives, and the timeline the reports draw.
public struct RehearsalResult: Codable, Sendable {
  public enum Outcome: String, Codable, Sendable {
    /// Recovered, verified, both objectives met.
    case passed
    /// Recovered and verified, but slower than the RTO or losing more than the RPO.
    case objectiveMissed = "objective-missed"
    /// The recovery did not complete, or its verification failed.
    case failed
  }

  /// One bar of the timeline, in milliseconds from the failure's injection.
  public struct Phase: Codable, Sendable {
    public var label: String
    /// injection, outage, repair, step, restore
    public var kind: String
    public var status: String
    public var startMs: Int64
    public var durationMs: Int64

    public init(label: String, kind: String, status: String, startMs: Int64, durationMs: Int64) {
      self.label = label
      self.kind = kind
      self.status = status
      self.startMs = startMs
      self.durationMs = durationMs
    }
  }

  public struct DataLoss: Codable, Sendable {
    public var device: String
    /// Acknowledged before the failure and present before it.
    public var acknowledged: Int
    /// Of those, missing after the recovery.
    public var lost: Int
    public var lostSeqs: [Int64]
    /// When the first and last lost record had been acknowledged (ISO 8601), empty when none.
    public var windowStart: String
    public var windowEnd: String
    /// From the first lost acknowledgement to the failure: what the RPO is compared with.
    public var windowMs: Int64
    /// Acknowledged between the failure and the verified service (the site still answered), and
    /// of those not kept by the restore: what a restore to a point before the failure gives up.
    public var acknowledgedAfter: Int
    public var lostAfter: Int

    public init(device: String, acknowledged: Int, lost: Int, lostSeqs: [Int64], windowStart: String, windowEnd: String,
      windowMs: Int64, acknowledgedAfter: Int, lostAfter: Int) {
      self.device = device
      self.acknowledged = acknowledged
      self.lost = lost
      self.lostSeqs = lostSeqs
      self.windowStart = windowStart
      self.windowEnd = windowEnd
      self.windowMs = windowMs
      self.acknowledgedAfter = acknowledgedAfter
      self.lostAfter = lostAfter
    }
  }

  public var id: String
  public var scenario: String
  public var environment: String
  public var operatorName: String
  public var toolVersion: String
  /// What was broken, in words.
  public var failure: String
  /// When the injection started: the recovery time counts from here.
  public var injectedAt: String
  /// When the failure was in effect (the drop's recorded time; the injection's end): what was
  /// acknowledged up to here was promised before the failure. Nil in results before it existed.
  public var failureAt: String?
  public var recoveredAt: String
  public var recoveryMs: Int64
  public var rtoMs: Int64?
  public var rpoMs: Int64?
  public var runID: String?
  public var runState: String
  /// What the rehearsal checked after the run, each a sentence; `verified` is their conjunction.
  public var checks: [String]
  public var verified: Bool
  public var dataLoss: DataLoss?
  /// Why there is no data-loss figure, when there is none.
  public var dataLossNote: String?
  public var phases: [Phase]
  public var outcome: Outcome
  /// Why, when not passed.
  public var reason: String

  public var rtoMet: Bool? { runState == "completed" ? rtoMs.map { recoveryMs <= $0 } : nil }
  public var rpoMet: Bool? {
    guard runState == "completed", let rpoMs, let dataLoss else { return nil }
    return dataLoss.windowMs <= rpoMs
  }

  public init(id: String, scenario: String, environment: String, operatorName: String, toolVersion: String, failure: String,
    injectedAt: Date) {
    self.id = id
    self.scenario = scenario
    self.environment = environment
    self.operatorName = operatorName
    self.toolVersion = toolVersion
    self.failure = failure
    self.injectedAt = JournalTime.format(injectedAt)
    recoveredAt = ""
    recoveryMs = 0
    runState = "not started"
    checks = []
    verified = false
    phases = []
    outcome = .failed
    reason = ""
  }

  /// Settles the outcome from what was measured.
  public mutating func conclude() {
    if runState != "completed" {
      outcome = .failed
      reason = "the recovery run \(runID ?? "") ended \(runState)"
    } else if !verified {
      outcome = .failed
      reason = "verification failed: " + checks.filter { $0.hasPrefix("FAILED") }.joined(separator: "; ")
    } else if rtoMet == false || rpoMet == false {
      outcome = .objectiveMissed
      var missed: [String] = []
      if rtoMet == false, let rtoMs { missed.append("recovery took \(Self.text(recoveryMs)), objective \(Self.text(rtoMs))") }
      if rpoMet == false, let rpoMs, let dataLoss { missed.append("data lost over \(Self.text(dataLoss.windowMs)), objective \(Self.text(rpoMs))") }
      reason = missed.joined(separator: "; ")
    } else {
      outcome = .passed
      reason = ""
    }
  }

  static func text(_ ms: Int64) -> String { DurationText.format(.milliseconds(ms)) }

  public var id8: String { String(id.suffix(4)) }
}

/// Where rehearsals are kept: `STATE/rehearsals/ID/` (0700) with `rehearsal.json`,
/// `report.md` and `report.html` (0600).
public enum RehearsalStore {
  public static func directory(stateDirectory: String, id: String) -> String { "\(stateDirectory)/rehearsals/\(id)" }

  public static func newID(scenario: String, environment: String, date: Date = Date()) -> String {
    let suffix = String(UInt32.random(in: 0..<0x10000), radix: 16)
    return "\(JournalTime.compact(date))-\(environment)-\(scenario)-\(String(repeating: "0", count: 4 - suffix.count) + suffix)"
  }

  /// Writes the result and both reports; returns the HTML report's path.
  @discardableResult
  public static func save(_ result: RehearsalResult, stateDirectory: String) throws -> String {
    try StateDirectory.ensure(stateDirectory)
    try StateDirectory.ensure(stateDirectory + "/rehearsals")
    let directory = directory(stateDirectory: stateDirectory, id: result.id)
    try StateDirectory.ensure(directory)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try StateDirectory.write(try encoder.encode(result), to: directory + "/rehearsal.json")
    try StateDirectory.write(Data(try RehearsalReport.render(result, format: .md).utf8), to: directory + "/report.md")
    let html = directory + "/report.html"
    try StateDirectory.write(Data(try RehearsalReport.render(result, format: .html).utf8), to: html)
    return html
  }

  /// Every rehearsal kept, oldest first (unreadable entries are skipped).
  public static func all(stateDirectory: String) -> [RehearsalResult] {
    let root = stateDirectory + "/rehearsals"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    let decoder = JSONDecoder()
    return names.sorted().compactMap { name in
      guard let data = FileManager.default.contents(atPath: "\(root)/\(name)/rehearsal.json") else { return nil }
      return try? decoder.decode(RehearsalResult.self, from: data)
    }.sorted { $0.injectedAt < $1.injectedAt }
  }
}

/// The acknowledgement log of a sync client: `SEQ<TAB>ISO-TIME` per line.
public enum AcknowledgementLog {
  public struct Entry: Sendable, Hashable {
    public var seq: Int64
    public var at: Date

    public init(seq: Int64, at: Date) {
      self.seq = seq
      self.at = at
    }
  }

  /// The log's complete lines; a torn last line (the client writing) is left out.
  public static func read(_ path: String) throws(ConfigError) -> [Entry] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigError(.fileUnreadable, file: path, message: "cannot read the acknowledgement log", hint: "rehearsal.acknowledgements.log names a file on this machine")
    }
    return parse(String(decoding: data, as: UTF8.self))
  }

  public static func parse(_ text: String) -> [Entry] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if !text.hasSuffix("\n") { lines.removeLast() }
    return lines.compactMap { line in
      let fields = line.split(separator: "\t")
      guard fields.count == 2, let seq = Int64(fields[0]), let at = parseTime(String(fields[1])) else { return nil }
      return Entry(seq: seq, at: at)
    }
  }

  static func parseTime(_ text: String) -> Date? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let date = JournalTime.parse(trimmed) { return date }
    return try? Date(trimmed, strategy: .iso8601)
  }

  /// What a recovery lost of what the client had been promised before the failure: records
  /// acknowledged up to `failure` and present before it (`presentBefore`, or acknowledged after
  /// that baseline was taken), missing from `presentAfter`.
  public static func loss(
    device: String, entries: [Entry], baselineTakenAt: Date, presentBefore: Set<Int64>, failure: Date, recovered: Date,
    presentAfter: Set<Int64>
  ) -> RehearsalResult.DataLoss {
    let promised = entries.filter { $0.at <= failure && (presentBefore.contains($0.seq) || $0.at > baselineTakenAt) }
    let lost = promised.filter { !presentAfter.contains($0.seq) }.sorted { $0.at < $1.at }
    let after = entries.filter { $0.at > failure && $0.at <= recovered }
    let lostAfter = after.filter { !presentAfter.contains($0.seq) }
    let windowMs = lost.first.map { Int64(max(0, failure.timeIntervalSince($0.at)) * 1000) } ?? 0
    return .init(
      device: device, acknowledged: promised.count, lost: lost.count, lostSeqs: Array(lost.map(\.seq).prefix(200)),
      windowStart: lost.first.map { JournalTime.format($0.at) } ?? "", windowEnd: lost.last.map { JournalTime.format($0.at) } ?? "",
      windowMs: windowMs, acknowledgedAfter: after.count, lostAfter: lostAfter.count)
  }
}

/// Health's view of the rehearsals: one item per scenario, `rehearsal_corrupt_db` and so on.
/// Every environment's rehearsals count (staging rehearses production's recovery); the
/// recovery time is compared with the objectives of the environment health is asked about.
public enum RehearsalHealth {
  public static func items(rehearsals: [RehearsalResult], objectives: Objectives?, now: Date, warningAge: TimeInterval)
    -> [HealthReport.Item]
  {
    RehearsalSpec.scenarios.map { scenario in
      let name = "rehearsal_" + scenario.replacingOccurrences(of: "-", with: "_")
      guard let last = rehearsals.last(where: { $0.scenario == scenario }), let at = JournalTime.parse(last.injectedAt) else {
        return .init(name: name, status: .warning, summary: "NEVER REHEARSED: nexus-dr rehearse \(scenario) --env staging")
      }
      let age = now.timeIntervalSince(at)
      let ago = DurationText.format(.seconds(Int64(max(0, age))))
      let rto = objectives.map { Int64($0.rto.milliseconds) } ?? last.rtoMs
      let recovery = DurationText.format(.milliseconds(last.recoveryMs))
      let against = rto.map { " (objective \(DurationText.format(.milliseconds($0))))" } ?? ""
      let loss = last.dataLoss.map { ", \($0.lost) acknowledged record(s) lost" } ?? ""
      let what = "in \(last.environment) \(ago) ago (\(JournalTime.display(at)))"
      let value = Double(last.recoveryMs) / 1000
      if last.outcome == .failed {
        return .init(name: name, status: .warning, summary: "LAST REHEARSAL FAILED \(what): \(last.reason)", value: value, unit: "seconds")
      }
      if let rto, last.recoveryMs > rto {
        return .init(name: name, status: .warning, summary: "RECOVERY SLOWER THAN THE OBJECTIVE \(what): \(recovery)\(against)\(loss)", value: value, unit: "seconds")
      }
      if last.outcome == .objectiveMissed {
        return .init(name: name, status: .warning, summary: "OBJECTIVE MISSED \(what): \(last.reason)", value: value, unit: "seconds")
      }
      if age > warningAge {
        return .init(name: name, status: .warning, summary: "NOT REHEARSED FOR \(Int(age / 86_400)) DAYS: last \(what), recovered in \(recovery)\(against)\(loss)", value: value, unit: "seconds")
      }
      return .init(name: name, status: .ok, summary: "rehearsed \(what): recovered in \(recovery)\(against)\(loss)", value: value, unit: "seconds")
    }
  }
}
