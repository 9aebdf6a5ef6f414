/// Takes the remote shell's pid from the first line of standard output and passes the rest on.
struct PIDLineReader {
  private(set) var pid: Int32?
  private var pending: [UInt8] = []
  private var done = false

  mutating func consume(_ bytes: [UInt8]) -> [UInt8] {
    if done { return bytes }
    pending += bytes
    guard let newline = pending.firstIndex(of: UInt8(ascii: "\n")) else { return [] }
    pid = Int32(String(decoding: pending[..<newline], as: UTF8.self))
    done = true
    let rest = Array(pending[(newline + 1)...])
    pending = []
    return rest
  }
}
