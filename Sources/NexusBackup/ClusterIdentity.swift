import Foundation
import NexusCore
import SystemPackage

/// Which PostgreSQL cluster WAL belongs to: its system identifier (`initdb` picks it; every
/// segment's first page and `global/pg_control` carry it). The archive records its own in
/// `wal/.cluster` (and the spool in `wal-spool/.cluster`), so that a new cluster (a logical
/// restore onto a fresh install, a second environment pointed at the same NAS) can never mix
/// its segments — same names, other content — into another cluster's archive.
public enum ClusterIdentity {
  public static let fileName = ".cluster"

  /// XLP_LONG_HEADER in `xlp_info`: a segment's first page has the long header, whose
  /// `xlp_sysid` follows the short header (20 bytes, padded to 24).
  static let longHeader: UInt16 = 0x0002

  /// The system identifier in a WAL segment's first page (also a `.partial` one); nil for a
  /// file that is not one (a history file, a backup label, a test's stand-in bytes).
  public static func ofSegment(_ path: String) -> UInt64? {
    guard let header = read(path, count: 40), header.count == 40 else { return nil }
    let info = UInt16(header[2]) | UInt16(header[3]) << 8
    guard info & longHeader != 0 else { return nil }
    // xlp_seg_size (offset 32) must be a power of two from 1 MiB to 1 GiB: otherwise not a segment.
    let segmentSize = (0..<4).reduce(UInt32(0)) { $0 | UInt32(header[32 + $1]) << (8 * UInt32($1)) }
    guard segmentSize >= 1 << 20, segmentSize <= 1 << 30, segmentSize & (segmentSize - 1) == 0 else { return nil }
    return littleEndian(header, at: 24)
  }

  /// The system identifier of the cluster whose data directory is `directory` (pg_control's first field).
  public static func ofDataDirectory(_ directory: String) -> UInt64? {
    guard let control = read("\(directory)/global/pg_control", count: 8), control.count == 8 else { return nil }
    let value = littleEndian(control, at: 0)
    return value == 0 ? nil : value
  }

  /// What `DIRECTORY/.cluster` records, nil when there is none (an archive from before it was recorded).
  public static func recorded(in directory: String) -> UInt64? {
    guard let text = try? String(contentsOfFile: "\(directory)/\(fileName)", encoding: .utf8) else { return nil }
    return UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// Records `identifier` as the cluster of `directory`, durably.
  public static func record(_ identifier: UInt64, in directory: String) throws(FileSystemError) {
    try FileSystem.durableWrite(Array("\(identifier)\n".utf8), to: "\(directory)/\(fileName)", mode: 0o644)
  }

  private static func littleEndian(_ bytes: [UInt8], at offset: Int) -> UInt64 {
    (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
  }

  private static func read(_ path: String, count: Int) -> [UInt8]? {
    guard let file = try? FileDescriptor.open(path, .readOnly, options: .closeOnExec) else { return nil }
    defer { try? file.close() }
    var buffer = [UInt8](repeating: 0, count: count)
    guard let got = try? buffer.withUnsafeMutableBytes({ try file.read(fromAbsoluteOffset: 0, into: $0) }) else {
      return nil
    }
    return Array(buffer.prefix(got))
  }
}
