import Foundation
import NexusCore

/// Health's view of the rehearsals: one item per scenario, `rehearsal_corrupt_db` and so on.
/// Every environment's rehearsals count (staging rehearses production's recovery); the
/// recovery time is compared with the objectives of the environment health is asked about.
public enum RehearsalHealth {
  public static func items(rehearsals: [RehearsalResult], objectives: Objectives?, now: Date, warningAge: TimeInterval)
    -> [HealthReport.Item]
  {
    RehearsalSpec.scenarios.map { scenario in
      let name = "rehearsal_" + scenario.replacingOccurrences(of: "-", with: "_")
      guard let last = rehearsals.last(where: { $0.scenario == scenario }), let at = JournalTime.parse(last.injectedAt)
      else {
        return .init(
          name: name, status: .warning, summary: "NEVER REHEARSED: nexus-dr rehearse \(scenario) --env staging")
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
        return .init(
          name: name, status: .warning, summary: "LAST REHEARSAL FAILED \(what): \(last.reason)", value: value,
          unit: "seconds")
      }
      if let rto, last.recoveryMs > rto {
        return .init(
          name: name, status: .warning,
          summary: "RECOVERY SLOWER THAN THE OBJECTIVE \(what): \(recovery)\(against)\(loss)", value: value,
          unit: "seconds")
      }
      if last.outcome == .objectiveMissed {
        return .init(
          name: name, status: .warning, summary: "OBJECTIVE MISSED \(what): \(last.reason)", value: value,
          unit: "seconds")
      }
      if age > warningAge {
        return .init(
          name: name, status: .warning,
          summary:
            "NOT REHEARSED FOR \(Int(age / 86_400)) DAYS: last \(what), recovered in \(recovery)\(against)\(loss)",
          value: value, unit: "seconds")
      }
      return .init(
        name: name, status: .ok, summary: "rehearsed \(what): recovered in \(recovery)\(against)\(loss)", value: value,
        unit: "seconds")
    }
  }
}
