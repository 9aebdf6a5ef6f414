import Foundation
import Mustache
import NexusCore

/// A rehearsal's report for people: Markdown for the site's wiki and a self-contained HTML page
/// with the timeline (failure, repair, every recovery step), the recovery-time objective as a
/// line, and the data-loss window.
public enum RehearsalReport {
  public enum Format: String, Sendable { case md, html }

  public static func render(_ result: RehearsalResult, format: Format) throws -> String {
    let view = View(result)
    switch format {
    case .md: return try MustacheTemplate(string: markdown).render(view)
    case .html: return try MustacheTemplate(string: html).render(view)
    }
  }

  /// The one-paragraph summary the command prints and the reports open with.
  public static func summary(_ result: RehearsalResult) -> [String] {
    let view = View(result)
    var lines = ["Rehearsal of \(result.scenario) in \(result.environment): \(view.outcomeText)"]
    lines.append("  failure:       \(result.failure) at \(view.injected)")
    lines.append("  recovery time: \(view.recovery) (objective \(view.rto): \(view.rtoVerdict))")
    lines.append("  data lost:     \(view.lossText) (objective \(view.rpo): \(view.rpoVerdict))")
    lines.append("  verification:  \(result.verified ? "passed" : "FAILED") — \(result.checks.joined(separator: "; "))")
    if !result.reason.isEmpty { lines.append("  why:           \(result.reason)") }
    return lines
  }

  struct Bar: Sendable {
    var label: String
    var kind: String
    var status: String
    var left: String
    var width: String
    var at: String
    var duration: String
  }

  struct Tick: Sendable {
    var left: String
    var text: String
  }

  struct View: Sendable {
    var scenario: String
    var environment: String
    var id: String
    var runID: String
    var hasRun: Bool
    var operatorName: String
    var toolVersion: String
    var failure: String
    var injected: String
    var recoveredAt: String
    var outcome: String
    var outcomeText: String
    var reason: String
    var hasReason: Bool
    var recovery: String
    var rto: String
    var rtoVerdict: String
    var rpo: String
    var rpoVerdict: String
    var rtoClass = ""
    var rpoClass = ""
    var lossText: String
    var lossValue: String
    var lossNote: String
    var lossDetail: String
    var lossDevice: String
    var hasLossWindow: Bool
    var lossWindow: String
    var checks: [String]
    var verified: Bool
    var bars: [Bar]
    var ticks: [Tick]
    var failureLeft: String
    var lossLeft: String
    var lossWidth: String
    var hasRTOLine: Bool
    var rtoLeft: String
    // The objective gauges: the measured value's width, the objective's line.
    var recoveryGaugeWidth: String
    var rtoGaugeLeft: String
    var lossGaugeWidth: String
    var rpoGaugeLeft: String
    var hasRPOGauge: Bool

    init(_ r: RehearsalResult) {
      func text(_ ms: Int64) -> String { DurationText.format(.milliseconds(ms)) }
      func percent(_ value: Double) -> String { String(format: "%.2f", min(100, max(0, value))) }
      scenario = r.scenario
      environment = r.environment
      id = r.id
      runID = r.runID ?? ""
      hasRun = r.runID != nil
      operatorName = r.operatorName
      toolVersion = r.toolVersion
      failure = r.failure
      injected = JournalTime.parse(r.injectedAt).map(JournalTime.display) ?? r.injectedAt
      recoveredAt = JournalTime.parse(r.recoveredAt).map(JournalTime.display) ?? "—"
      outcome = r.outcome.rawValue
      switch r.outcome {
      case .passed: outcomeText = "PASSED — recovered, verified, within both objectives"
      case .objectiveMissed: outcomeText = "OBJECTIVE MISSED — recovered and verified, but outside an objective"
      case .failed: outcomeText = "FAILED — not recovered or not verified"
      }
      reason = r.reason
      hasReason = !r.reason.isEmpty
      recovery =
        r.runState == "completed" ? text(r.recoveryMs) : "not recovered (\(text(r.recoveryMs)) until the run stopped)"
      rto = r.rtoMs.map(text) ?? "none set"
      rtoVerdict =
        r.rtoMet.map { $0 ? "met" : "MISSED" }
        ?? (r.runState != "completed" ? "MISSED (not recovered)" : "no objective in the inventory")
      rpo = r.rpoMs.map(text) ?? "none set"
      if let loss = r.dataLoss {
        lossText =
          loss.lost == 0
          ? "0 of \(loss.acknowledged) records \(loss.device) had acknowledged before the failure"
          : "\(loss.lost) of \(loss.acknowledged) records \(loss.device) had acknowledged before the failure, acknowledged over the \(text(loss.windowMs)) before it"
        lossDetail =
          loss.acknowledgedAfter == 0
          ? "No record was acknowledged between the failure and the verified service."
          : "\(loss.acknowledgedAfter) record(s) were acknowledged between the failure and the verified service (the site still answered); \(loss.lostAfter) of them are missing"
            + (loss.lostAfter > 0 ? " — a restore to a point before the failure gives those up by design." : ".")
        lossValue = "\(loss.lost) record\(loss.lost == 1 ? "" : "s")"
        lossNote =
          loss.lost == 0
          ? "of \(loss.acknowledged) acknowledged before the failure"
          : "of \(loss.acknowledged) acknowledged; over the \(text(loss.windowMs)) before the failure"
        rpoVerdict = r.rpoMet.map { $0 ? "met" : "MISSED" } ?? "no objective in the inventory"
        hasLossWindow = loss.lost > 0
        lossWindow =
          loss.lost > 0
          ? "\(loss.windowStart) – \(loss.windowEnd) (seq \(loss.lostSeqs.prefix(12).map(String.init).joined(separator: ", "))\(loss.lost > 12 ? ", …" : ""))"
          : ""
      } else {
        lossText = r.dataLossNote ?? "not measured"
        lossValue = "not measured"
        lossNote = r.dataLossNote ?? ""
        lossDetail = ""
        rpoVerdict = "not measured"
        hasLossWindow = false
        lossWindow = ""
      }
      checks = r.checks
      verified = r.verified
      lossDevice = r.dataLoss?.device ?? "acknowledged records"

      // The axis: from the first lost acknowledgement (or the failure) to the recovery's end.
      let lossMs = r.dataLoss?.windowMs ?? 0
      let failureOffset: Int64 = {
        guard let failureAt = r.failureAt.flatMap(JournalTime.parse), let injectedAt = JournalTime.parse(r.injectedAt)
        else { return 0 }
        return Int64((failureAt.timeIntervalSince(injectedAt) * 1000).rounded())
      }()
      let end = max(r.recoveryMs, r.phases.map { $0.startMs + $0.durationMs }.max() ?? 0, 1)
      let start = min(0, failureOffset - lossMs)
      let span = Double(end - start)
      func position(_ ms: Int64) -> Double { Double(ms - start) / span * 100 }
      bars = r.phases.map { phase in
        Bar(
          label: phase.label, kind: phase.kind, status: phase.status, left: percent(position(phase.startMs)),
          width: percent(max(0.35, Double(phase.durationMs) / span * 100)),
          at: "+" + text(max(0, phase.startMs)), duration: text(phase.durationMs))
      }
      ticks = (0...4).map { index in
        let ms = start + Int64(Double(end - start) * Double(index) / 4)
        return Tick(left: percent(Double(index) * 25), text: ms < 0 ? "−" + text(-ms) : "+" + text(ms))
      }
      failureLeft = percent(position(0))
      lossLeft = percent(position(failureOffset - lossMs))
      lossWidth = percent(Double(lossMs) / span * 100)
      if let rtoMs = r.rtoMs, rtoMs <= end {
        hasRTOLine = true
        rtoLeft = percent(position(rtoMs))
      } else {
        hasRTOLine = false
        rtoLeft = "0"
      }
      let recoveryScale = Double(max(r.recoveryMs, r.rtoMs ?? 0, 1)) * 1.08
      recoveryGaugeWidth = percent(max(0.35, Double(r.recoveryMs) / recoveryScale * 100))
      rtoGaugeLeft = percent(Double(r.rtoMs ?? 0) / recoveryScale * 100)
      let lossScale = Double(max(lossMs, r.rpoMs ?? 0, 1)) * 1.08
      lossGaugeWidth = percent(lossMs == 0 ? 0 : max(0.35, Double(lossMs) / lossScale * 100))
      rpoGaugeLeft = percent(Double(r.rpoMs ?? 0) / lossScale * 100)
      hasRPOGauge = r.rpoMs != nil && r.dataLoss != nil
      rtoClass = rtoVerdict == "met" ? "met" : rtoVerdict.hasPrefix("MISSED") ? "missed" : ""
      rpoClass = rpoVerdict == "met" ? "met" : rpoVerdict == "MISSED" ? "missed" : ""
    }
  }
}
