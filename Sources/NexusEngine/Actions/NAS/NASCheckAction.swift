import Foundation
import NexusCore
import NexusTransport

/// `nas.check`: is the NAS path a mount point of the expected filesystem,
/// writable (a probe file written, fsync'd, read back, removed), with at least
/// `min_free`? Output `target` is where this run's backups go: the NAS, or —
/// when it is not usable — the fallback directory on the server, which health
/// then reports loudly. The step itself succeeds either way unless `require: true`.
public struct NASCheckAction: StepAction {
  public static let name = "nas.check"
  public enum Parameter: String, ParameterKey { case require }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  /// Fail the step instead of falling back (for runbooks that must write to the NAS itself).
  public var require: Bool

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    require = try parameters[.require]?.bool() ?? false
  }

  public var declaredOutputs: Set<String>? { ["target", "nas_ok", "reason", "free_bytes"] }

  public func plan(_ context: PlanContext) -> [String] {
    let path = context.values.environment["nas.path"] ?? "{{ env.nas.path }}"
    let fallback = context.values.environment["nas.fallback"] ?? "{{ env.nas.fallback }}"
    return [
      "on \(context.step.host ?? "server"): \(path) must be a mount point\(context.values.environment["nas.fstype"].map { " of type \($0)" } ?? ""), writable, with enough free space",
      require ? "if not: the step fails" : "if not: this run writes to the fallback \(fallback) instead",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else {
      throw StepFailure(.failed, "environment \(context.environment.name) has no nas section in the inventory")
    }
    let probe = NASProbe(nas: nas)
    let result = try await context.run(probe.command(timeout: context.timeout), quiet: true)
    let report = probe.parse(result.stdoutText)
    context.console.line("    \(report.ok ? "NAS ok" : "NAS NOT USABLE"): \(report.summary)")
    if !report.ok {
      if require { throw StepFailure(.failed, "the NAS is not usable: \(report.summary)") }
      let prepare = HostCommandLines.makeDirectories(nas.fallback, subdirectories: NASLayout.directories)
      _ = try await context.run(prepare, quiet: true)
      // The fallback is the server's own disk: filling it would stop PostgreSQL. It needs min_free too.
      let space = try await context.run(
        HostCommand(.argv(["df", "-B1", "--output=avail", nas.fallback]), timeout: .seconds(30)), quiet: true)
      let free =
        Int64(space.stdoutText.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") ?? 0
      guard free >= nas.minFree.bytes else {
        throw StepFailure(
          .failed,
          "the NAS is not usable (\(report.summary)) and the fallback \(nas.fallback) has only \(ByteSize(bytes: free)) free, less than min_free \(nas.minFree): nothing was written, to keep the server's disk from filling"
        )
      }
    }
    return StepResult(
      outputs: [
        "target": report.ok ? nas.path : nas.fallback, "nas_ok": report.ok ? "true" : "false",
        "reason": report.summary, "free_bytes": String(report.freeBytes ?? 0),
      ],
      exitStatus: result.exitCode)
  }
}

/// The NAS layout of DESIGN.md.
public enum NASLayout {
  public static let directories = ["daily", "base", "wal", "config", "attachments", "clarity", "restore-test"]
}

/// The probe, as one shell script run on the server, and its reading.
struct NASProbe {
  var nas: NASSpec

  func command(timeout: Duration) -> HostCommand {
    // One round trip: mount point and type, then a probe file, then free bytes.
    let script = """
      p=$1; want=$2
      line=$(findmnt -n -o TARGET,FSTYPE --mountpoint "$p" 2>/dev/null | tail -n 1)
      echo "mount=$line"
      if [ -n "$line" ]; then
        probe="$p/.nexus-dr-probe-$$"
        if printf 'nexus-dr probe %s\\n' "$$" > "$probe" 2>/dev/null && sync "$probe" && grep -q "nexus-dr probe $$" "$probe"; then echo writable=yes; else echo writable=no; fi
        rm -f "$probe"
        echo "free=$(df -B1 --output=avail "$p" | tail -n 1 | tr -d ' ')"
      fi
      """
    return HostCommand(.argv(["sh", "-c", script, "nas-check", nas.path, nas.fstype ?? ""]), timeout: timeout)
  }

  struct Report {
    var ok: Bool
    var summary: String
    var freeBytes: Int64?
  }

  func parse(_ output: String) -> Report {
    var values: [String: String] = [:]
    for line in output.split(separator: "\n") {
      if let equals = line.firstIndex(of: "=") {
        values[String(line[..<equals])] = String(line[line.index(after: equals)...])
      }
    }
    let mount = (values["mount"] ?? "").split(separator: " ", omittingEmptySubsequences: true)
    guard mount.count >= 2 else {
      return Report(ok: false, summary: "\(nas.path) is not a mount point: the NAS is not mounted", freeBytes: nil)
    }
    let fstype = String(mount[1])
    if let expected = nas.fstype, expected != fstype {
      return Report(ok: false, summary: "\(nas.path) is mounted as \(fstype), expected \(expected)", freeBytes: nil)
    }
    guard values["writable"] == "yes" else {
      return Report(
        ok: false, summary: "\(nas.path) is mounted (\(fstype)) but a probe file could not be written and read back",
        freeBytes: nil)
    }
    let free = Int64(values["free"] ?? "") ?? 0
    guard free >= nas.minFree.bytes else {
      return Report(
        ok: false, summary: "\(nas.path) has \(ByteSize(bytes: free)) free, less than min_free \(nas.minFree)",
        freeBytes: free)
    }
    return Report(
      ok: true, summary: "\(nas.path) mounted (\(fstype)), writable, \(ByteSize(bytes: free)) free", freeBytes: free)
  }
}
