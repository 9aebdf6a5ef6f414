/// Which dated backups to keep and which to remove.
///
/// Rules, in order: only names this plan recognises are considered (anything
/// else is never touched); the `keep` newest by the date in their name are kept;
/// the newest *valid* one is always kept, even when newer invalid ones push it
/// out; and nothing at all is removed unless the newest valid backup is the
/// one just made (`current`) — a night whose backup failed deletes nothing.
public struct RetentionPlan: Sendable, Equatable {
  public struct Item: Sendable, Equatable {
    public var name: String
    /// `YYYYMMDD` from the name.
    public var date: String
    public var valid: Bool

    public init(name: String, date: String, valid: Bool) {
      self.name = name
      self.date = date
      self.valid = valid
    }
  }

  public var keep: [Item]
  public var remove: [Item]
  /// Why nothing is removed, when that is the case for a reason other than "nothing is old enough".
  public var heldBack: String?

  public static func make(items: [Item], keep count: Int, current: String?) -> RetentionPlan {
    let ordered = items.sorted { $0.date == $1.date ? $0.name > $1.name : $0.date > $1.date }
    guard let newestValid = ordered.first(where: \.valid) else {
      return RetentionPlan(keep: ordered, remove: [], heldBack: "no valid backup exists; nothing is removed")
    }
    if let current, newestValid.name != current {
      return RetentionPlan(
        keep: ordered, remove: [],
        heldBack: "the newest valid backup is \(newestValid.name), not this run's \(current); nothing is removed")
    }
    var kept = Array(ordered.prefix(max(1, count)))
    if !kept.contains(newestValid) { kept.append(newestValid) }
    return RetentionPlan(keep: kept, remove: ordered.filter { !kept.contains($0) }, heldBack: nil)
  }

  /// `PREFIX_YYYYMMDD.SUFFIX` → `YYYYMMDD`, or nil for a name this plan does not recognise.
  public static func date(in name: String, prefix: String, suffix: String) -> String? {
    guard name.hasPrefix(prefix + "_"), name.hasSuffix(suffix) else { return nil }
    let middle = name.dropFirst(prefix.count + 1).dropLast(suffix.count)
    return middle.wholeMatch(of: #/[0-9]{8}/#) != nil ? String(middle) : nil
  }
}

/// A dump's size against the median of the others.
public struct SizeAnomaly: Sendable, Equatable {
  public var size: Int64
  public var median: Int64?
  /// size / median.
  public var ratio: Double?
  public var anomalous: Bool

  /// Outside ±`band` (0.5 = ±50%) of the median of `others` is anomalous; with no others, nothing is.
  public static func evaluate(size: Int64, others: [Int64], band: Double = 0.5) -> SizeAnomaly {
    guard !others.isEmpty else { return SizeAnomaly(size: size, median: nil, ratio: nil, anomalous: false) }
    let sorted = others.sorted()
    let median =
      sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    guard median > 0 else { return SizeAnomaly(size: size, median: median, ratio: nil, anomalous: size > 0) }
    let ratio = Double(size) / Double(median)
    return SizeAnomaly(size: size, median: median, ratio: ratio, anomalous: ratio < 1 - band || ratio > 1 + band)
  }
}
