import Foundation
import NexusBackup
import NexusCore

extension NASCatalog {
  /// Reads `nas-catalog.sh`'s lines; a line it does not understand is skipped.
  static func parse(_ text: String) -> NASCatalog {
    var catalog = NASCatalog()
    for line in text.split(separator: "\n") {
      // A JSON document is the last field, whole, even if a hand-written one holds a tab.
      let documents: Set<Substring> = ["manifest", "result", "pitr"]
      let kind = line.prefix { $0 != "\t" }
      let fields = line.split(
        separator: "\t", maxSplits: documents.contains(kind) ? 3 : Int.max, omittingEmptySubsequences: false
      ).map(String.init)
      switch fields.first {
      case "root" where fields.count == 4:
        let mount = fields[2].split(separator: " ").map(String.init)
        catalog.roots.append(
          Root(
            path: fields[1], mountTarget: mount.count == 2 ? mount[0] : nil, fstype: mount.count == 2 ? mount[1] : nil,
            available: Int64(fields[3])))
      case "dump" where fields.count == 4:
        guard let size = Int64(fields[3]) else { continue }
        catalog.dumps.append(Dump(root: fields[1], name: fields[2], size: size))
      case "manifest" where fields.count == 4:
        guard let manifest = try? DumpManifest.decode(Data(fields[3].utf8)) else { continue }
        catalog.manifests[fields[1], default: [:]][fields[2]] = manifest
      case "base" where fields.count == 7:
        guard let bytes = Int64(fields[3]), let dataBytes = Int64(fields[4]), let finished = Double(fields[5]),
          let match = fields[6].firstMatch(of: #/"Timeline":([0-9]+),"Start-LSN":"([^"]+)"/#),
          let timeline = Int(match.output.1),
          let segment = WALSegment.name(lsn: String(match.output.2), timeline: timeline)
        else {
          catalog.unreadableBases.append("\(fields[1])/base/\(fields[2])")
          continue
        }
        catalog.bases.append(
          Base(
            root: fields[1], name: fields[2], bytes: bytes, dataBytes: dataBytes, timeline: timeline,
            startLSN: String(match.output.2), startSegment: segment, finishedAt: Date(timeIntervalSince1970: finished)))
      case "incomplete" where fields.count == 3:
        catalog.incompleteBases.append((fields[1], fields[2]))
      case "result" where fields.count == 4:
        catalog.restoreResults.append((fields[1], Data(fields[3].utf8)))
      case "pitr" where fields.count == 4:
        catalog.pitrResult = Data(fields[3].utf8)
      case "config" where fields.count == 4:
        catalog.configSnapshots[fields[1], default: []].append(
          (fields[2], Set(fields[3].split(separator: ",").map(String.init))))
      case "wal" where fields.count == 3, "spool" where fields.count == 3:
        guard let stamp = Double(fields[2]) else { continue }
        catalog.segments.append(
          Segment(name: fields[1], archivedAt: Date(timeIntervalSince1970: stamp), spooled: fields[0] == "spool"))
      case "history" where fields.count == 3:
        guard let bytes = Data(base64Encoded: fields[2]) else { continue }
        do {
          let history = try TimelineHistory(parsing: String(decoding: bytes, as: UTF8.self), file: fields[1])
          catalog.histories[history.timeline] = history
        } catch {
          catalog.historyProblems.append("\(error)")
        }
      case "cluster" where fields.count == 3:
        catalog.archiveCluster = catalog.archiveCluster ?? fields[2]
      case "avail" where fields.count == 2:
        catalog.available = Int64(fields[1])
      default:
        continue
      }
    }
    catalog.bases.sort { $0.name > $1.name }
    for root in catalog.configSnapshots.keys { catalog.configSnapshots[root]?.sort { $0.name < $1.name } }
    var files: [String: Date] = [:]
    for segment in catalog.segments {
      files[segment.name] = max(files[segment.name] ?? .distantPast, segment.archivedAt)
    }
    catalog.timelines = WALTimelines(files: files, histories: catalog.histories)
    return catalog
  }
}
