import Foundation
import Testing

@testable import NexusEngine

@Suite("Secrets put back into redacted lines")
struct RedactedLineTests {
  let stored = [
    "db_password = s3cr3t#with hash",
    "Environment=NEXUS_DB_PASSWORD=pa ss",
    #"  "db_password": "j$on\"q","#,
    "url = postgresql://nexus_app:u%40rl@db/nexus",
  ]

  @Test("each shape the snapshot redacts gets its value back, the line around it kept")
  func shapes() {
    #expect(RedactedLine.restore("db_password = [REDACTED]", from: stored) == "db_password = s3cr3t#with hash")
    #expect(
      RedactedLine.restore("Environment=NEXUS_DB_PASSWORD=[REDACTED]", from: stored)
        == "Environment=NEXUS_DB_PASSWORD=pa ss")
    #expect(
      RedactedLine.restore(#"    "db_password": "[REDACTED]","#, from: stored) == #"    "db_password": "j$on\"q","#)
    #expect(
      RedactedLine.restore("url = postgresql://nexus_app:[REDACTED]@db/nexus", from: stored)
        == "url = postgresql://nexus_app:u%40rl@db/nexus")
  }

  @Test("the key the secrets listing names, and nothing put back without a stored line")
  func keysAndMisses() {
    #expect(RedactedLine.key(of: "Environment=NEXUS_DB_PASSWORD=[REDACTED]") == "Environment")
    #expect(RedactedLine.key(of: #"  "db_password": "[REDACTED]""#) == #""db_password""#)
    #expect(RedactedLine.key(of: "db_password = x") == nil)
    #expect(RedactedLine.restore("api_key = [REDACTED]", from: stored) == nil)
    #expect(
      RedactedLine.restore("a=[REDACTED] b=[REDACTED]", from: stored) == nil,
      "two secrets on one line are put back by hand")
  }
}
