import Foundation
import NexusCore
import NexusTransport

/// `nas.copy-back`: after the NAS is back (repaired or replaced), everything the
/// routine wrote to the fallback while it was away goes to the NAS — the WAL
/// spool first, into `wal/`, in segment order, then every other file to the same
/// relative path. Each file is written under a temporary name, fsync'd, read back
/// from the disk (O_DIRECT, past the page cache) and compared by sha256 with the
/// fallback's copy, renamed into place, and only then is the fallback's copy
/// removed. Safe to repeat: a file already on the NAS with the same sha256 only
/// has its fallback copy removed. A different file of that name on the NAS is kept
/// as `NAME.replaced-TIME` (the fallback's is the newer: it was written while the
/// NAS was away) — except a WAL segment, where both are kept and the step fails.
public struct NASCopyBackAction: StepAction {
  public static let name = "nas.copy-back"
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {}

  public var declaredOutputs: Set<String>? { ["copied", "same", "replaced", "bytes"] }

  public func plan(_ context: PlanContext) -> [String] {
    let fallback = context.values.environment["nas.fallback"] ?? "the fallback"
    let nas = context.values.environment["nas.path"] ?? "the NAS"
    return [
      "check that \(nas) has room for everything in \(fallback) plus min_free",
      "\(fallback)/wal-spool/* → \(nas)/wal/ in segment order, then every other file of \(fallback) → the same path under \(nas)",
      "each: temporary name, fsync, read back past the cache and compared by sha256, rename; only then the fallback's copy is removed",
      "a different file of that name on the NAS is kept as NAME.replaced-<time>; a WAL segment that differs: both kept, the step fails",
    ]
  }

  public func probe(_ context: StepContext) async throws(StepFailure) -> [String] {
    guard let nas = context.environment.nas else { return [] }
    let listing = try await context.run(.argv(["sh", "-c", Self.survey, "survey", nas.fallback], timeout: .seconds(60)), quiet: true)
    return ["the fallback holds: \(listing.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))"]
  }

  /// What the fallback holds, one line: files per directory and the total.
  static let survey = #"""
    fb=$1
    [ -d "$fb" ] || { echo "nothing ($fb does not exist)"; exit 0; }
    out=""
    for d in daily wal-spool base config clarity attachments restore-test; do
      [ -d "$fb/$d" ] || continue
      n=$(find "$fb/$d" -type f ! -name '.nexus-dr-copy.*' | wc -l)
      [ "$n" -gt 0 ] && out="$out$d: $n file(s), "
    done
    echo "${out}$(du -sb "$fb" | cut -f1) bytes in $fb"
    """#

  static let script = #"""
    set -u
    fb=$1; nas=$2; stamp=$3; stop_after=$4
    # Only onto the NAS itself: an unmounted mount point is a directory on the server's own disk.
    nas_mounted() { mountpoint -q "$nas" || { echo "$nas is not a mount point (any more): the NAS is not mounted; nothing more is moved" >&2; exit 1; }; }
    nas_mounted
    [ -d "$fb" ] || { echo "summary copied=0 same=0 replaced=0 bytes=0"; exit 0; }
    find "$nas" -xdev -name '.nexus-dr-copy.*' -type f -delete 2>/dev/null
    n=0; copied=0; same=0; replaced=0; bytes=0; conflicts=0
    # Read back past the page cache where O_DIRECT works; a plain read where it is refused.
    digest() {
      if dd if="$1" iflag=direct bs=1M count=0 status=none 2>/dev/null; then
        dd if="$1" iflag=direct bs=1M status=none | sha256sum | cut -d' ' -f1
      else
        sha256sum < "$1" | cut -d' ' -f1
      fi
    }
    copy_one() { # SOURCE DESTINATION IS_WAL
      src=$1; dest=$2; wal=$3
      [ -f "$src" ] || return 0          # moved meanwhile (archive_command flushing its spool)
      sum=$(sha256sum < "$src" | cut -d' ' -f1)
      dir=$(dirname -- "$dest")
      mkdir -p -- "$dir" || { echo "cannot create $dir" >&2; exit 1; }
      if [ -e "$dest" ]; then
        if [ "$(digest "$dest")" = "$sum" ]; then
          nas_mounted; same=$((same + 1)); rm -f -- "$src"; sync "$(dirname -- "$src")"; return 0
        fi
        if [ "$wal" = 1 ]; then
          echo "conflict $dest: an archived segment with different content; both kept"; conflicts=$((conflicts + 1)); return 0
        fi
        mv -- "$dest" "$dest.replaced-$stamp" && sync "$dir" || { echo "cannot move $dest aside" >&2; exit 1; }
        echo "replaced $dest (the NAS's copy kept as $dest.replaced-$stamp)"; replaced=$((replaced + 1))
      fi
      tmp="$dir/.nexus-dr-copy.$$"
      if ! cp -p -- "$src" "$tmp" || ! sync "$tmp"; then
        rm -f -- "$tmp"
        [ -f "$src" ] || return 0          # flushed by archive_command meanwhile
        echo "copying $src to $dir failed" >&2; exit 1
      fi
      if [ "$(digest "$tmp")" != "$sum" ]; then rm -f -- "$tmp"; echo "$dest read back differs from $src: the NAS corrupts writes; nothing removed" >&2; exit 1; fi
      mv -- "$tmp" "$dest" && sync "$dir" || { rm -f -- "$tmp"; echo "cannot rename into $dest" >&2; exit 1; }
      copied=$((copied + 1)); bytes=$((bytes + $(stat -c %s -- "$dest")))
      n=$((n + 1))
      if [ "$stop_after" -gt 0 ] && [ "$n" -gt "$stop_after" ]; then echo "stopped before removing $src"; exit 99; fi
      nas_mounted
      rm -f -- "$src"; sync "$(dirname -- "$src")"
    }
    if [ -d "$fb/wal-spool" ]; then
      while IFS= read -r name; do copy_one "$fb/wal-spool/$name" "$nas/wal/$name" 1; done \
        < <(find "$fb/wal-spool" -maxdepth 1 -type f ! -name '.*' -printf '%f\n' | sort)
    fi
    while IFS= read -r -d '' path; do
      rel=${path#"$fb"/}
      copy_one "$path" "$nas/$rel" 0
    done < <(find "$fb" -path "$fb/wal-spool" -prune -o -type f ! -name '.nexus-dr-copy.*' ! -name '*.partial' -print0 | sort -z)
    echo "summary copied=$copied same=$same replaced=$replaced bytes=$bytes"
    [ "$conflicts" -eq 0 ]
    """#

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else { throw StepFailure(.failed, "environment \(context.environment.name) has no nas section") }
    let room = try await context.run(HostCommand(.argv(["sh", "-c", #"""
      used=$( [ -d "$1" ] && du -sb "$1" | cut -f1 || echo 0 )
      free=$(df -B1 --output=avail "$2" | tail -n 1 | tr -d ' ')
      echo "$used $free"
      """#, "room", nas.fallback, nas.path]), timeout: .seconds(300)), quiet: true)
    let figures = room.stdoutText.split(separator: " ").compactMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard room.succeeded, figures.count == 2 else { throw StepFailure(.failed, "cannot measure \(nas.fallback) and the free space on \(nas.path): \(room.stderrTail)") }
    guard figures[0] + nas.minFree.bytes <= figures[1] else {
      throw StepFailure(.failed, "\(nas.path) has \(ByteSize(bytes: figures[1])) free; the fallback holds \(ByteSize(bytes: figures[0])) and min_free is \(nas.minFree): nothing was copied")
    }
    // Test-only: NEXUS_DR_CRASH_AT=STEP:mid-copy stops after two files, with the third
    // copied and verified but its fallback copy not yet removed, then dies like kill -9.
    let stopAfter = FaultInjection.target == "\(context.step.id):mid-copy" ? 2 : 0
    let stamp = JournalTime.compact(Date())
    let result = try await context.run(HostCommand(
      .argv(["bash", "-c", Self.script, "copy-back", nas.fallback, nas.path, stamp, String(stopAfter)]), timeout: context.timeout))
    if result.exitCode == 99 { FaultInjection.crashIfRequested(step: context.step.id, phase: "mid-copy") }
    let summary = result.stdoutText.firstMatch(of: #/summary copied=([0-9]+) same=([0-9]+) replaced=([0-9]+) bytes=([0-9]+)/#)
    guard result.succeeded, let summary else {
      throw StepFailure(.failed, "copying the fallback back to the NAS stopped (\(result.termination)); what was verified is on the NAS and gone from the fallback, the rest is still in the fallback; run the step again once the cause is fixed:\n  \(result.stderrTail.suffix(600))\(result.stdoutText.contains("conflict") ? "\n  " + result.stdoutText.split(separator: "\n").filter { $0.hasPrefix("conflict") }.joined(separator: "\n  ") : "")", exitStatus: result.exitCode)
    }
    let bytes = Int64(summary.output.4) ?? 0
    context.console.line("    \(summary.output.1) file(s) copied and verified (\(ByteSize(bytes: bytes))), \(summary.output.2) already there, \(summary.output.3) replaced (kept as .replaced-\(stamp))")
    return StepResult(
      outputs: ["copied": String(summary.output.1), "same": String(summary.output.2), "replaced": String(summary.output.3), "bytes": String(bytes)],
      exitStatus: 0, bytes: bytes)
  }
}
