/// Removes secrets from text before it is printed, logged or stored, and from the
/// configuration files a snapshot copies to the NAS.
///
/// One table of line rules, `rules`, written as POSIX extended regular expressions
/// and matched case-insensitively. `redact` applies them in Swift; `sedExpressions`
/// are the same rules for `sed -E` on a host (GNU sed, `LC_ALL=C`), with the same
/// result. What they mask: settings whose name ends in a word for a secret
/// (`db_password = …`, `password: …`, `api_key = …`, `"apiKey": "…"`,
/// `Environment=NEXUS_DB_PASSWORD=…`, `password='…'` in a conninfo), the password
/// in a URL of any scheme (`postgresql://u:pw@h`, `redis://:pw@h`) and a bare
/// WireGuard key on its own line. `detectorERE` finds what got past them.
public enum Redactor {
  public static let mask = "[REDACTED]"

  /// One rule, applied to each line in the order of `rules`.
  public struct Rule: Sendable {
    public enum Effect: Sendable {
      /// The line stays as it is and no later rule sees it (sed `b`).
      case keepLine
      /// Every match becomes this sed replacement: text, `\1` for the first group.
      case replace(String)
    }

    /// A POSIX ERE without `#` (the sed delimiter), matched case-insensitively.
    public let pattern: String
    public let effect: Effect
    /// Lowercased words one of which the text must hold for the pattern to match,
    /// so that `redact` can skip the rule.
    let needs: [String]

    /// The rule for `sed -E` (GNU: the `I` flag).
    public var sedExpression: String {
      switch effect {
      case .keepLine: "\\#\(pattern)#Ib"
      case .replace(let replacement): "s#\(pattern)#\(replacement)#gI"
      }
    }
  }

  // The parts the rules and the detector are built from.

  /// A setting's name that ends in a word for a secret (`db_password`, `NEXUS_DB_PASSWORD`,
  /// `apiKey`, `secret_key_base`, `AWS_SECRET_ACCESS_KEY`, `auth_token`, `PrivateKey`,
  /// `PresharedKey`). Names with the word inside are not secrets: `password_encryption`,
  /// `token_url`, `password_file`, `PGPASSFILE`; `PublicKey` is no secret either.
  static let secretName =
    "[A-Za-z0-9_.-]*(password|passwd|passphrase|secret|token|(api|access|private|preshared)[_.-]?key)s?([_.-]?(key|base|hash|salt|value))*[0-9]*"
  /// What holds one of `secretName`'s words, for `Rule.needs`.
  static let secretWords = ["pass", "secret", "token", "key"]
  /// A quoted value; a backslash escapes, an unclosed quote runs to the end of the line.
  static let quotedValue = #"'([^'\\]|\\.)*('|$)|"([^"\\]|\\.)*("|$)"#
  /// An unquoted value: up to a space, or up to quotes that close a string it is in.
  static let bareValue = #"[^[:space:]'"]([^[:space:]'"]|['"]+[^[:space:]'",}])*"#
  /// `scheme://user:`, a URL up to its password.
  static let urlUser = #"[A-Za-z][A-Za-z0-9+.-]*://[^/@:[:space:]'"]*:"#

  public static let rules: [Rule] = [
    // A restored postgresql.conf with this redacted would not start.
    Rule(
      pattern: #"^[[:space:]]*password_encryption[[:space:]]*=[[:space:]]*'?[A-Za-z0-9-]*'?[[:space:]]*$"#,
      effect: .keepLine, needs: ["password_encryption"]),
    // A WireGuard key alone on a line (`wg genkey`, /etc/wireguard/privatekey): 43 base64 characters and '='.
    Rule(pattern: "^[A-Za-z0-9+/]{43}=$", effect: .replace(mask), needs: ["="]),
    // JSON or YAML, a quoted name: "db_password": "…", 'token': '…' (quotes kept), "token": 42.
    Rule(
      pattern: #"(["']\#(secretName)["'][[:space:]]*:[[:space:]]*")([^"\\]|\\.)+""#, effect: .replace(#"\1\#(mask)""#),
      needs: secretWords),
    Rule(
      pattern: #"(["']\#(secretName)["'][[:space:]]*:[[:space:]]*')([^'\\]|\\.)+'"#, effect: .replace(#"\1\#(mask)'"#),
      needs: secretWords),
    Rule(
      pattern: #"(["']\#(secretName)["'][[:space:]]*:[[:space:]]*)[^[:space:]"'{[,}][^,}]*"#,
      effect: .replace(#"\1"\#(mask)""#), needs: secretWords),
    // A setting on its own line, the rest of the line its value: `api_key = …`, `password: …`,
    // `PrivateKey = …`, `DB_PASSWORD=…` (an EnvironmentFile), `- token: …`.
    Rule(
      pattern: #"^([[:space:]]*(-[[:space:]]+)?\#(secretName)[[:space:]]*[=:][[:space:]]*)[^[:space:]].*$"#,
      effect: .replace(#"\1\#(mask)"#), needs: secretWords),
    // An assignment in quotes, spaces belonging to the value: Environment="DB_PASSWORD=x y".
    Rule(
      pattern: #"("\#(secretName)[[:space:]]*=[[:space:]]*)([^"\\]|\\.)+("|$)"#, effect: .replace(#"\1\#(mask)""#),
      needs: secretWords),
    Rule(
      pattern: #"('\#(secretName)[[:space:]]*=[[:space:]]*)([^'\\]|\\.)+('|$)"#, effect: .replace(#"\1\#(mask)'"#),
      needs: secretWords),
    // An assignment within a line: password=… in a conninfo, Environment=NEXUS_DB_PASSWORD=…, --token=….
    Rule(
      pattern: #"((^|[^"'A-Za-z0-9_.-])\#(secretName)[[:space:]]*=[[:space:]]*)(\#(quotedValue)|\#(bareValue))"#,
      effect: .replace(#"\1\#(mask)"#), needs: secretWords),
    // A URL's password, up to the last '@' before the path: postgresql://u:pw@h/db, redis://:pw@h.
    Rule(
      pattern: #"(\#(urlUser))([^[:space:]/'"]|['"]+[^[:space:]/'",}])+@"#, effect: .replace(#"\1\#(mask)@"#),
      needs: ["://"]),
  ]

  /// `rules` for `sed -E`, in order: `sed -E -e E1 -e E2 …`, with `LC_ALL=C` (in a UTF-8
  /// locale GNU sed's `.` skips bytes that are not UTF-8, and a Latin-1 file would keep its secrets).
  public static var sedExpressions: [String] { rules.map(\.sedExpression) }

  /// A secret that the rules did not mask, for `grep -i -E` (`LC_ALL=C`): a setting named like
  /// a secret (password, passwd, passphrase, secret, token, API key, access key, private key,
  /// preshared key) whose value is not `[REDACTED]`, a URL whose `user:password@` password
  /// is not, or a PEM private key. Matches nothing that `rules` leave.
  public static let detectorERE: String = {
    let value = "(\"\(notMask(excluding: "\""))|'\(notMask(excluding: "'"))|\(notMask(excluding: "[:space:]\"'{")))"
    return [
      #"^[[:space:]]*(-[[:space:]]+)?\#(secretName)[[:space:]]*[=:][[:space:]]*\#(value)"#,
      #"["']\#(secretName)["'][[:space:]]*:[[:space:]]*\#(value)"#,
      #"\#(secretName)[[:space:]]*=[[:space:]]*\#(value)"#,
      #"\#(urlUser)\#(notMask(excluding: "[:space:]/@"))[^[:space:]/]*@"#,
      "-----BEGIN ([A-Z]+ )*PRIVATE KEY-----",
    ].map { "(\($0))" }.joined(separator: "|")
  }()

  /// An ERE for text that does not start with `mask` and whose first character is none of
  /// `excluding` (bracket-expression syntax): `[^…[]|\[([^R]|$)|\[R([^E]|$)|…`.
  static func notMask(excluding: String) -> String {
    let characters = Array(mask)
    var alternatives = ["[^\(excluding)[]"]
    for length in 1..<characters.count {
      let next = characters[length] == "]" ? "[^]]" : "[^\(characters[length])]"
      alternatives.append(String(characters[..<length]).replacing("[", with: #"\["#) + "(\(next)|$)")
    }
    return "(" + alternatives.joined(separator: "|") + ")"
  }

  public static func redact(_ text: String) -> String {
    // Most text holds none of the words the rules need; skip them then.
    let lowered = text.lowercased()
    let active = compiled.filter { entry in entry.rule.needs.contains { lowered.contains($0) } }
    guard active.contains(where: { if case .replace = $0.rule.effect { true } else { false } }) else { return text }
    // Lines as sed sees them: split at "\n" only (Swift's "\r\n" is one Character).
    var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
      String(String.UnicodeScalarView($0))
    }
    for index in lines.indices {
      applying: for (rule, regex) in active {
        switch rule.effect {
        case .keepLine:
          if lines[index].contains(regex) { break applying }
        case .replace(let replacement):
          lines[index] = lines[index].replacing(regex) { match in expand(replacement, match) }
        }
      }
    }
    return lines.joined(separator: "\n")
  }

  /// A sed replacement with `\1`…`\9` filled in from `match`.
  private static func expand(_ replacement: String, _ match: Regex<AnyRegexOutput>.Match) -> String {
    var result = ""
    var escaped = false
    for character in replacement {
      if escaped, let group = character.wholeNumberValue {
        result += group < match.output.count ? match.output[group].substring.map(String.init) ?? "" : ""
      } else if character == "\\" && !escaped {
        escaped = true
        continue
      } else {
        result.append(character)
      }
      escaped = false
    }
    return result
  }

  /// `rules` as Swift regexes, matched as sed does: by Unicode scalar, case-insensitively,
  /// `.` matching any character.
  nonisolated(unsafe) private static let compiled: [(rule: Rule, regex: Regex<AnyRegexOutput>)] = rules.map { rule in
    do {
      return (
        rule, try Regex(swiftSyntax(rule.pattern)).ignoresCase().matchingSemantics(.unicodeScalar).dotMatchesNewlines()
      )
    } catch {
      preconditionFailure("the redaction rule \(rule.pattern) is not a regex: \(error)")
    }
  }

  /// A POSIX ERE in Swift's regex syntax. Only bracket expressions differ for the rules
  /// above: POSIX takes every character there literally (a backslash and `[` too) and
  /// `[:space:]` as ASCII white space; Swift reads `[` as a nested class, `\` as an
  /// escape, `--` and `&&` as set operations, and `[:space:]` as Unicode white space.
  static func swiftSyntax(_ ere: String) -> String {
    let characters = Array(ere)
    var result = ""
    var index = 0
    while index < characters.count {
      let character = characters[index]
      index += 1
      if character == "\\", index < characters.count {
        result += "\\\(characters[index])"
        index += 1
        continue
      }
      guard character == "[" else {
        result += character == "]" ? "\\]" : String(character)
        continue
      }
      result += "["
      if index < characters.count, characters[index] == "^" {
        result += "^"
        index += 1
      }
      let start = index
      while index < characters.count, characters[index] != "]" || index == start {
        let member = characters[index]
        if member == "[", index + 1 < characters.count, characters[index + 1] == ":",
          let end = (index + 2..<characters.count).first(where: {
            characters[$0] == ":" && $0 + 1 < characters.count && characters[$0 + 1] == "]"
          })
        {
          let name = String(characters[(index + 2)..<end])
          guard let members = posixClasses[name] else {
            preconditionFailure("[:\(name):] is not supported in a redaction rule")
          }
          result += members
          index = end + 2
          continue
        }
        // `-` between two letters or digits is a range (A-Z); anything else that is not a letter or digit is escaped.
        let isRange =
          member == "-" && index > start && index + 1 < characters.count
          && isLetterOrDigit(characters[index - 1]) && isLetterOrDigit(characters[index + 1])
        result += isLetterOrDigit(member) || isRange ? String(member) : "\\\(member)"
        index += 1
      }
      result += "]"
      index += 1
    }
    return result
  }

  private static func isLetterOrDigit(_ character: Character) -> Bool {
    character.isASCII && (character.isLetter || character.isNumber)
  }

  private static let posixClasses = [
    "space": #" \t\n\u{0B}\f\r"#, "alnum": "A-Za-z0-9", "alpha": "A-Za-z", "digit": "0-9",
  ]

  /// A step's outputs, each value redacted — except outputs named `public_key` (or
  /// `…_public_key`): a WireGuard public key is a bare base64 key on its own, which the
  /// line rule would mask, and the actions that declare one derive it from the private
  /// key and never output the private key itself.
  public static func redact(outputs: [String: String]) -> [String: String] {
    var result: [String: String] = [:]
    for (name, value) in outputs {
      let isPublicKey =
        (name == "public_key" || name.hasSuffix("_public_key")) && value.count == 44 && !value.contains("\n")
      result[name] = isPublicKey ? value : redact(value)
    }
    return result
  }
}
