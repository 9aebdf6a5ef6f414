import Foundation
import Mustache

/// Renders a run's report as Markdown (for the wiki), JSON (for tools) and a
/// self-contained HTML page with a timeline of the steps.
public enum ReportWriter {
  public enum Format: String, CaseIterable, Sendable {
    case md, json, html
  }

  public static func render(_ report: RunReport, format: Format) throws -> String {
    switch format {
    case .json:
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    case .md:
      return try MustacheTemplate(string: ReportTemplates.markdown).render(report)
    case .html:
      return try MustacheTemplate(string: ReportTemplates.html).render(report)
    }
  }

  /// Writes `report.md`, `report.json` and `report.html` (mode 0600) into the run's directory.
  @discardableResult
  public static func writeAll(history: RunHistory, runbook: Runbook?, directory: RunDirectory) throws -> [String] {
    let report = RunReport.build(history: history, runbook: runbook)
    var paths: [String] = []
    for format in Format.allCases {
      let path = directory.report(format.rawValue)
      try StateDirectory.write(Data(try render(report, format: format).utf8), to: path)
      paths.append(path)
    }
    return paths
  }
}
