/// A small deterministic generator (SplitMix64) for property-based tests: the same seed gives
/// the same cases, so a failure printed with its seed and case number can be replayed.
public struct SplitMix: Sendable {
  public var state: UInt64

  public init(state: UInt64) { self.state = state }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
  public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

  /// A command-line argument: any characters but NUL (which no argument can carry) — quotes,
  /// `$`, backticks, newlines, backslashes, globs, control characters and non-ASCII.
  public mutating func shellArgument(maxLength: Int = 24) -> String {
    let alphabet = Array("'\"$`\\\n\t *?[]{}()<>|&;#~!%=,.-_aZ09 é世\u{7}\u{1B}\r".unicodeScalars)
    let length = below(maxLength + 1)
    var scalars = String.UnicodeScalarView()
    for _ in 0..<length {
      if below(8) == 0, let scalar = Unicode.Scalar(UInt32(1 + below(0x7F))) {
        scalars.append(scalar)
      } else {
        scalars.append(pick(alphabet))
      }
    }
    return String(scalars)
  }
}
