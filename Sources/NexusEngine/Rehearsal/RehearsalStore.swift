import Foundation
import NexusCore

/// Where rehearsals are kept: `STATE/rehearsals/ID/` (0700) with `rehearsal.json`,
/// `report.md` and `report.html` (0600).
public enum RehearsalStore {
  public static func directory(stateDirectory: String, id: String) -> String { "\(stateDirectory)/rehearsals/\(id)" }

  public static func newID(scenario: String, environment: String, date: Date = Date()) -> String {
    let suffix = String(UInt32.random(in: 0..<0x10000), radix: 16)
    return
      "\(JournalTime.compact(date))-\(environment)-\(scenario)-\(String(repeating: "0", count: 4 - suffix.count) + suffix)"
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
