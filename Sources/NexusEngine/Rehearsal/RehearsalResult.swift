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

    public init(
      device: String, acknowledged: Int, lost: Int, lostSeqs: [Int64], windowStart: String, windowEnd: String,
      windowMs: Int64, acknowledgedAfter: Int, lostAfter: Int
    ) {
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

  public init(
    id: String, scenario: String, environment: String, operatorName: String, toolVersion: String, failure: String,
    injectedAt: Date
  ) {
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
      if rtoMet == false, let rtoMs {
        missed.append("recovery took \(Self.text(recoveryMs)), objective \(Self.text(rtoMs))")
      }
      if rpoMet == false, let rpoMs, let dataLoss {
        missed.append("data lost over \(Self.text(dataLoss.windowMs)), objective \(Self.text(rpoMs))")
      }
      reason = missed.joined(separator: "; ")
    } else {
      outcome = .passed
      reason = ""
    }
  }

  static func text(_ ms: Int64) -> String { DurationText.format(.milliseconds(ms)) }

  public var id8: String { String(id.suffix(4)) }
}
