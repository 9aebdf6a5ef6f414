import Foundation
import NexusBackup
import NexusCore
import NexusTransport

/// The dumps in a `daily/` directory with their manifests, read in one command on the host.
struct DailyDumps {
  struct Entry {
    var name: String
    var date: String
    var size: Int64
    var manifest: DumpManifest?

    /// Valid: a manifest that names this file and its exact size.
    var valid: Bool { manifest.map { $0.file == name && $0.sizeBytes == size } ?? false }
  }

  var directory: String
  var entries: [Entry]

  static func load(_ context: StepContext, directory: String, prefix: String = "nexus") async throws(StepFailure) -> DailyDumps {
    let script = #"""
      [ -d "$1" ] || exit 0
      find "$1" -maxdepth 1 -type f -name "$2_*.dump" -printf 'D\t%f\t%s\n'
      for f in "$1"/"$2"_*.manifest.json; do [ -f "$f" ] && printf 'M\t%s\t%s\n' "$(basename "$f")" "$(tr -d '\n' < "$f")"; done
      exit 0
      """#
    let result = try await context.run(HostCommand(.argv(["sh", "-c", script, "daily", directory, prefix]), timeout: .seconds(120)), quiet: true)
    guard result.succeeded else { throw StepFailure(.failed, "cannot list \(directory): \(result.stderrTail)") }
    var sizes: [String: Int64] = [:]
    var manifests: [String: DumpManifest] = [:]
    for line in result.stdoutText.split(separator: "\n") {
      let fields = line.split(separator: "\t", maxSplits: 2).map(String.init)
      guard fields.count == 3 else { continue }
      if fields[0] == "D", let size = Int64(fields[2]) { sizes[fields[1]] = size }
      if fields[0] == "M", let manifest = try? DumpManifest.decode(Data(fields[2].utf8)) { manifests[fields[1]] = manifest }
    }
    let entries = sizes.compactMap { name, size -> Entry? in
      guard let date = RetentionPlan.date(in: name, prefix: prefix, suffix: ".dump") else { return nil }
      return Entry(name: name, date: date, size: size, manifest: manifests[DumpManifest.name(forDump: name)])
    }.sorted { $0.date > $1.date }
    return DailyDumps(directory: directory, entries: entries)
  }
}

/// `backup.rotate`: keeps the configured number of daily dumps by the date in
/// their names, never the newest valid one, deletes nothing when this run's
/// dump is not the newest valid dump, and never touches a file it does not recognise.
public struct RotateAction: StepAction {
  public static let name = "backup.rotate"
  public static let parameterKeys = ["target", "current", "keep", "prefix"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var current: Template
  public var keep: Int?
  public var prefix: String

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required("target"))
    current = try context.template(try parameters.required("current", hint: "this run's dump: {{ steps.dump.output.dump }}"))
    if let node = parameters["keep"] {
      keep = try node.int()
      guard keep! >= 1 else { throw node.error(.invalidValue, "keep must be at least 1") }
    }
    prefix = try parameters["prefix"]?.string() ?? "nexus"
  }

  public var declaredOutputs: Set<String>? { ["kept", "removed"] }

  public func plan(_ context: PlanContext) -> [String] {
    let base = (try? target.render(context.values)) ?? target.description
    return ["keep the \(keep.map(String.init) ?? "retention.daily") newest \(prefix)_YYYYMMDD.dump in \(base)/daily (never the newest valid one); remove the others with their manifests and globals; nothing if this run's dump is not the newest valid one"]
  }

  public func probe(_ context: StepContext) async throws(StepFailure) -> [String] {
    // Before the run, the target may not be known yet (it comes from nas.check): assume the NAS.
    let base = (try? context.render(target)) ?? context.environment.nas?.path ?? ""
    let dumps = try await DailyDumps.load(context, directory: "\(base)/daily", prefix: prefix)
    var items = dumps.entries.map { RetentionPlan.Item(name: $0.name, date: $0.date, valid: $0.valid) }
    let tonight = "\(prefix)_\(BackupDate.today()).dump"
    if !items.contains(where: { $0.name == tonight }) { items.append(.init(name: tonight, date: BackupDate.today(), valid: true)) }
    let plan = RetentionPlan.make(items: items, keep: keep ?? context.environment.retention.daily, current: tonight)
    return ["if tonight's dump succeeds, rotation removes: " + (plan.remove.isEmpty ? "nothing" : plan.remove.map(\.name).joined(separator: ", "))]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let directory = "\(try context.render(target))/daily"
    let currentName = URL(fileURLWithPath: try context.render(current)).lastPathComponent
    let dumps = try await DailyDumps.load(context, directory: directory, prefix: prefix)
    let items = dumps.entries.map { RetentionPlan.Item(name: $0.name, date: $0.date, valid: $0.valid) }
    let plan = RetentionPlan.make(items: items, keep: keep ?? context.environment.retention.daily, current: currentName)
    if let reason = plan.heldBack {
      context.console.line("    nothing removed: \(reason)")
      return StepResult(outputs: ["kept": plan.keep.map(\.name).joined(separator: ","), "removed": ""])
    }
    if !plan.remove.isEmpty {
      let paths = plan.remove.flatMap {
        ["\(directory)/\($0.name)", "\(directory)/\(DumpManifest.name(forDump: $0.name))", "\(directory)/\(DumpManifest.globalsName(forDump: $0.name))"]
      }
      let removal = try await context.run(HostCommand(.argv(["rm", "-f", "--"] + paths), timeout: .seconds(120)))
      guard removal.succeeded else { throw StepFailure(.failed, "removing old dumps failed: \(removal.stderrTail)") }
      context.console.line("    removed \(plan.remove.map(\.name).joined(separator: ", "))")
    }
    return StepResult(outputs: ["kept": plan.keep.map(\.name).joined(separator: ","), "removed": plan.remove.map(\.name).joined(separator: ",")])
  }
}

/// `backup.size-check`: this dump's size against the median of the others in
/// `daily/`; outside the band it is flagged (output `anomaly`), never deleted.
public struct SizeCheckAction: StepAction {
  public static let name = "backup.size-check"
  public static let parameterKeys = ["target", "current", "band", "prefix"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var current: Template
  public var band: Double
  public var prefix: String

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required("target"))
    current = try context.template(try parameters.required("current"))
    band = 0.5
    if let node = parameters["band"] {
      guard let value = Double(try node.string()), value > 0, value < 10 else {
        throw node.error(.invalidValue, "band is a fraction such as 0.5 (±50%)")
      }
      band = value
    }
    prefix = try parameters["prefix"]?.string() ?? "nexus"
  }

  public var declaredOutputs: Set<String>? { ["anomaly", "size", "median", "ratio"] }

  public func plan(_ context: PlanContext) -> [String] {
    ["compare this dump's size with the median of the others in daily/ (±\(Int(band * 100))%); flag, never delete"]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let directory = "\(try context.render(target))/daily"
    let currentName = URL(fileURLWithPath: try context.render(current)).lastPathComponent
    let dumps = try await DailyDumps.load(context, directory: directory, prefix: prefix)
    guard let mine = dumps.entries.first(where: { $0.name == currentName }) else {
      throw StepFailure(.failed, "\(currentName) is not in \(directory)")
    }
    let others = dumps.entries.filter { $0.name != currentName && $0.valid }.map(\.size)
    let result = SizeAnomaly.evaluate(size: mine.size, others: others, band: band)
    let ratio = result.ratio.map { String(format: "%.2f", $0) } ?? "-"
    context.console.line("    \(ByteSize(bytes: mine.size)) against a median of \(result.median.map { ByteSize(bytes: $0).description } ?? "nothing yet") (ratio \(ratio))\(result.anomalous ? ": ANOMALY" : "")")
    return StepResult(outputs: [
      "anomaly": result.anomalous ? "true" : "false", "size": String(mine.size), "median": result.median.map(String.init) ?? "",
      "ratio": ratio,
    ])
  }
}
