import Foundation
import NexusBackup
import NexusCore
import NexusTransport

/// `backup.size-check`: this dump's size against the median of the others in
/// `daily/`; outside the band it is flagged (output `anomaly`), never deleted.
public struct BackupSizeCheckAction: StepAction {
  public static let name = "backup.size-check"
  public enum Parameter: String, ParameterKey { case target, current, band, prefix }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var current: Template
  public var band: Double
  public var prefix: String

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required(.target))
    current = try context.template(try parameters.required(.current))
    band = 0.5
    if let node = parameters[.band] {
      guard let value = Double(try node.string()), value > 0, value < 10 else {
        throw node.error(.invalidValue, "band is a fraction such as 0.5 (±50%)")
      }
      band = value
    }
    prefix = try parameters[.prefix]?.string() ?? "nexus"
  }

  public var declaredOutputs: Set<String>? { ["anomaly", "size", "median", "ratio"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["compare this dump's size with the median of the others in daily/ (±\(Int(band * 100))%); flag, never delete"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let root = try context.render(target)
    let directory = "\(root)/daily"
    let currentName = URL(fileURLWithPath: try context.render(current)).lastPathComponent
    let dumps = try await NASCatalog.load(context, roots: [root]).daily(in: root, prefix: prefix)
    guard let mine = dumps.entries.first(where: { $0.name == currentName }) else {
      throw StepFailure(.failed, "\(currentName) is not in \(directory)")
    }
    let others = dumps.entries.filter { $0.name != currentName && $0.valid }.map(\.size)
    let result = SizeAnomaly.evaluate(size: mine.size, others: others, band: band)
    let ratio = result.ratio.map { String(format: "%.2f", $0) } ?? "-"
    context.console.line(
      "    \(ByteSize(bytes: mine.size)) against a median of \(result.median.map { ByteSize(bytes: $0).description } ?? "nothing yet") (ratio \(ratio))\(result.anomalous ? ": ANOMALY" : "")"
    )
    return StepResult(outputs: [
      "anomaly": result.anomalous ? "true" : "false", "size": String(mine.size),
      "median": result.median.map(String.init) ?? "",
      "ratio": ratio,
    ])
  }
}
