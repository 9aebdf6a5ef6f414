import Foundation

/// Backup health, as `nexus-dr health` reports it to people, to nexus-health
/// (`--json`) and to node_exporter (`--prometheus`). The status of the whole is
/// the worst of its items; the exit status follows the monitoring-plugin
/// convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
public struct HealthReport: Codable, Sendable {
  public enum Status: String, Codable, Sendable, Comparable {
    case ok = "OK"
    case warning = "WARNING"
    case critical = "CRITICAL"
    case unknown = "UNKNOWN"

    public var exitCode: Int32 {
      switch self {
      case .ok: 0
      case .warning: 1
      case .critical: 2
      case .unknown: 3
      }
    }

    var rank: Int {
      switch self {
      case .ok: 0
      case .warning: 1
      case .unknown: 2
      case .critical: 3
      }
    }

    public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
  }

  public struct Item: Codable, Sendable {
    /// Stable name: nas, fallback, last_dump, dump_size, base_backup, wal_archiving, restore_test.
    public var name: String
    public var status: Status
    public var summary: String
    /// The measured value behind the status (bytes, seconds, counts), when there is one.
    public var value: Double?
    public var unit: String?

    public init(name: String, status: Status, summary: String, value: Double? = nil, unit: String? = nil) {
      self.name = name
      self.status = status
      self.summary = summary
      self.value = value
      self.unit = unit
    }
  }

  public var environment: String
  public var checkedAt: String
  public var status: Status
  public var items: [Item]

  enum CodingKeys: String, CodingKey {
    case environment, status, items
    case checkedAt = "checked_at"
  }

  public init(environment: String, checkedAt: String, items: [Item]) {
    self.environment = environment
    self.checkedAt = checkedAt
    self.items = items
    self.status = items.map(\.status).max() ?? .unknown
  }

  public var text: String {
    var lines = ["nexus backup health (\(environment)): \(status.rawValue)"]
    for item in items {
      lines.append(
        "  \(item.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(item.name.count < 14 ? item.name.padding(toLength: 14, withPad: " ", startingAt: 0) : item.name) \(item.summary)"
      )
    }
    return lines.joined(separator: "\n")
  }

  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  /// node_exporter textfile format.
  public var prometheus: String {
    var lines = [
      "# HELP nexus_dr_health_status Backup health per item: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
      "# TYPE nexus_dr_health_status gauge",
      "nexus_dr_health_status{environment=\"\(environment)\",item=\"all\"} \(status.exitCode)",
    ]
    for item in items {
      lines.append(
        "nexus_dr_health_status{environment=\"\(environment)\",item=\"\(item.name)\"} \(item.status.exitCode)")
    }
    lines.append("# HELP nexus_dr_health_value The measured value behind each item (see the unit label).")
    lines.append("# TYPE nexus_dr_health_value gauge")
    for item in items {
      if let value = item.value {
        lines.append(
          "nexus_dr_health_value{environment=\"\(environment)\",item=\"\(item.name)\",unit=\"\(item.unit ?? "")\"} \(value)"
        )
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
