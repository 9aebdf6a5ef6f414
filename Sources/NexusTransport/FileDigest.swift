import Crypto
import Foundation

/// SHA-256 of a local file, read in 1 MiB pieces so a multi-gigabyte dump does not fill memory.
enum FileDigest {
  static func sha256(path: String) throws -> (hex: String, bytes: Int64) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    defer { try? handle.close() }
    var hasher = SHA256()
    var total: Int64 = 0
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
      total += Int64(chunk.count)
    }
    return (hex(hasher.finalize()), total)
  }

  static func hex(_ digest: some Sequence<UInt8>) -> String {
    digest.map { String(format: "%02x", $0) }.joined()
  }
}
