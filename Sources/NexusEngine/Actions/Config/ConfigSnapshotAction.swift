import Foundation
import NexusCore
import NexusTransport

/// `config.snapshot`: the configured paths of the server and of the gate (over
/// SSH) into `config/YYYYMMDDTHHMMSS/{server,gate}` on the NAS, with the
/// inventory's excludes, secrets redacted by `Redactor`'s rules (as `sed -E`
/// expressions: settings named like secrets, `Environment=…_PASSWORD=…` in units,
/// JSON keys, URL passwords, WireGuard keys) and checked: a snapshot in which a
/// WireGuard key survives, or in which `Redactor.detectorERE` still finds a
/// secret, is refused (exit 4, naming the files, never a line of them) and
/// nothing is kept. Unchanged files are hard links to the previous snapshot
/// (rsync --link-dest), and a snapshot identical to the previous one is not kept
/// at all, so history is forever and cheap.
/// The unredacted copy lives only in a 0700 scratch directory on the step's host,
/// removed when the step ends; one left by a run that was killed is removed by the
/// next run once it is an hour old.
/// Each host's part holds `.nexus-dr-excluded`: the paths (not the contents) of the
/// files the excludes left out — the secrets a restore asks the operator to put back —
/// and `.nexus-dr-owners`: `USER GROUP MODE /path` of every file, by name.
public struct ConfigSnapshotAction: StepAction {
  public static let name = "config.snapshot"
  public enum Parameter: String, ParameterKey { case target, hosts }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var hosts: [ConfigPart]

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(try parameters.required(.target))
    hosts = try parameters.choices(.hosts, default: ConfigPart.allCases, code: .unknownHost) {
      "config snapshots cover server and gate, not '\($0)'"
    }
  }

  public var declaredOutputs: Set<String>? { ["snapshot", "changed"] }

  public func plan(_ context: PlanContext) -> [String] {
    let base = (try? target.render(context.values)) ?? target.description
    return [
      "remove scratch directories older than an hour that a killed run left on \(context.step.host ?? "server")",
      "tar the configured paths of \(hosts.map(\.rawValue).joined(separator: " and ")) (gate over SSH), excludes applied, into a 0700 scratch directory on \(context.step.host ?? "server")",
      "redact secrets (settings named like passwords, secrets, tokens, API, access, private and preshared keys; URL passwords; WireGuard keys); refuse, naming the files, if a key or a secret remains",
      "keep as \(base)/config/<timestamp>/ with hard links to the previous snapshot; nothing when unchanged",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let config = context.environment.config else {
      throw StepFailure(.failed, "no config section in the inventory")
    }
    let backupRoot = try context.render(target)
    let root = "\(backupRoot)/config"
    let stamp = JournalTime.compact(Date())
    // A run killed before its cleanup left its scratch directory, unredacted files in it.
    let stale = try await context.run(
      .argv(
        [
          "find", "/var/tmp", "-maxdepth", "1", "-name", "nexus-dr-config.*", "-mmin", "+60", "-exec", "rm", "-rf",
          "{}", "+",
        ], timeout: .seconds(120)), quiet: true)
    if !stale.succeeded {
      context.console.line(
        "    warning: cannot remove old scratch directories /var/tmp/nexus-dr-config.*: \(stale.stderrTail)")
    }
    // mktemp -d makes the directory 0700: the files in it are not redacted yet.
    let staging = try await context.run(.argv(["mktemp", "-d", "/var/tmp/nexus-dr-config.XXXXXX"]), quiet: true)
    let stage = staging.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard staging.succeeded, stage.hasPrefix("/var/tmp/nexus-dr-config.") else {
      throw StepFailure(.failed, "cannot create a scratch directory: \(staging.stderrTail)")
    }
    let cleanup = HostCommand.argv(["rm", "-rf", "--", stage], timeout: .seconds(60))

    // Archive the paths that exist (globs expanded by the host's shell), relative to /, with the excludes.
    let tarScript = RemoteScript.configSnapshotTar
    let patterns = config.exclude.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }.joined(separator: "\n")
    for part in hosts {
      let host = part.rawValue
      let paths = part.paths(config)
      guard !paths.isEmpty else { continue }
      // An inventory without the host (the server's own, when it lists only itself) has nothing to reach.
      guard context.environment.host(host) != nil else {
        context.console.line(
          "    \(host): not in this environment's inventory; its configuration is not in this snapshot")
        continue
      }
      var command = HostCommand(.argv(["sh", "-c", tarScript, "config-tar", patterns] + paths), timeout: .seconds(300))
      command.captureLimit = 256 << 20
      let tar: CommandResult
      do { tar = try await context.run(command, on: host, quiet: true) } catch {
        _ = try? await context.run(cleanup, quiet: true)
        throw error
      }
      guard tar.succeeded, !tar.stdoutTruncated else {
        _ = try? await context.run(cleanup, quiet: true)
        throw StepFailure(.failed, "cannot archive the configuration on \(host): \(tar.termination) \(tar.stderrTail)")
      }
      var unpack = HostCommand(
        .argv(["sh", "-c", #"mkdir -p "$1" && tar -C "$1" -xzf -"#, "config-untar", "\(stage)/\(host)"]),
        timeout: .seconds(300))
      unpack.stdin = tar.stdout
      let unpacked: CommandResult
      do { unpacked = try await context.run(unpack, quiet: true) } catch {
        _ = try? await context.run(cleanup, quiet: true)
        throw error
      }
      guard unpacked.succeeded else {
        _ = try? await context.run(cleanup, quiet: true)
        throw StepFailure(.failed, "cannot unpack the configuration of \(host): \(unpacked.stderrTail)")
      }
    }

    // The newest snapshot so far: an unchanged configuration keeps it, a changed one shares its unchanged files.
    let catalog: NASCatalog
    do { catalog = try await NASCatalog.load(context, roots: [backupRoot]) } catch {
      _ = try? await context.run(cleanup, quiet: true)
      throw error
    }
    let latest = catalog.configSnapshots[backupRoot]?.last.map { "\(root)/\($0.name)" } ?? ""
    let finish = RemoteScript.configSnapshotFinish
    let arguments =
      ["bash", "-c", finish, "config-finish", stage, root, stamp, latest, Redactor.detectorERE]
      + Redactor.sedExpressions
    let result: CommandResult
    do { result = try await context.run(HostCommand(.argv(arguments), timeout: .seconds(300)), quiet: true) } catch {
      _ = try? await context.run(cleanup, quiet: true)
      throw error
    }
    if result.exitCode == 4 {
      throw StepFailure(
        .failed,
        "the config snapshot was refused and nothing was kept on the NAS: \(result.stderrTail.suffix(1500))\n"
          + "Exclude these files (config.exclude in the inventory: a restore then asks for them) or move the secret into an excluded file, then run again",
        exitStatus: 4)
    }
    guard result.succeeded else {
      throw StepFailure(
        .failed,
        "the config snapshot failed on \(context.step.host ?? "server"): \(result.termination) \(result.stdoutText.suffix(400)) \(result.stderrTail.suffix(400))",
        exitStatus: result.exitCode)
    }
    let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    let changed = line.hasPrefix("new ")
    let snapshot = String(line.drop { $0 != " " }.dropFirst())
    context.console.line(changed ? "    new snapshot \(snapshot)" : "    unchanged since \(snapshot); nothing added")
    return StepResult(outputs: ["snapshot": snapshot, "changed": changed ? "true" : "false"], exitStatus: 0)
  }
}
