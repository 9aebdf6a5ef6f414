import Foundation

/// A size in bytes, read from the inventory as `20GiB`, `500MB`, `4096` or `1.5TiB`.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var bytes: Int64

  public init(bytes: Int64) { self.bytes = bytes }

  /// Parses a size; `nil` when the text is not one. Units: B, KB/MB/GB/TB (powers
  /// of 1000) and KiB/MiB/GiB/TiB (powers of 1024); no unit means bytes.
  public init?(parsing text: String) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard let match = trimmed.wholeMatch(of: #/([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)/#),
      let number = Double(match.output.1)
    else { return nil }
    let unit = String(match.output.2)
    guard let factor = Self.units[unit] else { return nil }
    let value = number * factor
    guard value.isFinite, value < Double(Int64.max) else { return nil }
    self.bytes = Int64(value.rounded())
  }

  private static let units: [String: Double] = [
    "": 1, "B": 1,
    "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824, "TiB": 1_099_511_627_776,
  ]

  public var description: String {
    let steps: [(String, Double)] = [
      ("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024),
    ]
    for (unit, size) in steps where Double(bytes) >= size {
      let value = Double(bytes) / size
      return value == value.rounded() ? "\(Int64(value))\(unit)" : String(format: "%.1f%@", value, unit)
    }
    return "\(bytes)B"
  }

  public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }
}
