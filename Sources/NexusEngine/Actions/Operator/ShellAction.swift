import Foundation
import NexusCore
import NexusTransport

/// `shell`: a site-specific command. An argument array, or a command line for
/// the host's shell; expected exit statuses; outputs captured from stdout by
/// named regular expressions or as a JSON object.
public struct ShellAction: StepAction {
  public static let name = "shell"
  /// The command's keys (``CommandSpec``'s) and two of its own.
  public struct Parameter: ParameterKey {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    static let capture = Parameter(rawValue: "capture")
    static let json = Parameter(rawValue: "json")
    public static let allCases = CommandSpec.keys.map(Parameter.init) + [capture, json]
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = false

  public var command: CommandSpec
  /// Output key → pattern; the first capture group (or the whole match) becomes the value.
  public var capture: [(key: String, pattern: String)]
  /// Read stdout as a JSON object; its top-level values become outputs.
  public var json: Bool

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    command = try CommandSpec.decode(parameters.fields, context)
    capture = []
    if let captureValue = parameters[.capture] {
      for (key, value) in try captureValue.mapping() {
        let pattern = try value.string()
        do { _ = try Regex(pattern) } catch {
          throw value.error(.invalidValue, "capture '\(key)' is not a valid regular expression: \(error)")
        }
        capture.append((key, pattern))
      }
    }
    json = try parameters[.json]?.bool() ?? false
  }

  public var declaredOutputs: Set<String>? {
    json ? nil : Set(capture.map(\.key)).union(["exit_status", "stdout"])
  }

  public func plan(_ context: PlanContext) -> [String] {
    var lines = ["run on \(context.step.host ?? "?"): \(command.display(context.values))"]
    if command.expectedExit != [0] {
      lines.append("expect exit status \(command.expectedExit.sorted().map(String.init).joined(separator: ", "))")
    }
    return lines
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let hostCommand = try context.command(command)
    let result = try await context.run(hostCommand)
    guard let code = result.exitCode, command.expectedExit.contains(code) else {
      throw StepFailure(
        .failed,
        "\(context.step.host ?? "?"): \(hostCommand.displayLine) ended with \(result.termination), expected exit status \(command.expectedExit.sorted().map(String.init).joined(separator: " or "))"
          + (result.stderrTail.isEmpty ? "" : "\n  stderr: \(result.stderrTail.suffix(600))"),
        exitStatus: result.exitCode)
    }
    var outputs: [String: String] = [:]
    if json {
      guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any] else {
        throw StepFailure(.failed, "the command's output is not a JSON object")
      }
      for (key, value) in object {
        if let string = value as? String {
          outputs[key] = string
        } else if let data = try? JSONSerialization.data(
          withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
        {
          outputs[key] = String(decoding: data, as: UTF8.self)
        }
      }
    }
    for (key, pattern) in capture {
      guard let regex = try? Regex(pattern), let match = result.stdoutText.firstMatch(of: regex) else {
        throw StepFailure(.failed, "capture '\(key)': /\(pattern)/ did not match the command's output")
      }
      let value = match.output.count > 1 ? match.output[1].substring : match.output[0].substring
      outputs[key] = value.map(String.init) ?? ""
    }
    // Set last, so neither a JSON key nor a capture can hide them.
    outputs["exit_status"] = String(code)
    outputs["stdout"] = String(result.stdoutText.suffix(4096)).trimmingCharacters(in: .newlines)
    return StepResult(
      outputs: outputs, exitStatus: code, command: hostCommand.displayLine, bytes: Int64(result.stdout.count))
  }
}
