// swift-tools-version: 6.2
import PackageDescription

let package = Package(
  name: "nexus-dr",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "nexus-dr", targets: ["nexus-dr"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
  ],
  targets: [
    // C libraries at the edge, found by pkg-config.
    .systemLibrary(
      name: "CLibSSH2",
      pkgConfig: "libssh2",
      providers: [.apt(["libssh2-1-dev"])]
    ),
    .systemLibrary(
      name: "CLibPQ",
      pkgConfig: "libpq",
      providers: [.apt(["libpq-dev"])]
    ),

    // Inventory, durations and sizes, quoting, redaction: the shared vocabulary; POSIX, the one
    // place that calls the C library (on swift-system).
    .target(
      name: "NexusCore",
      dependencies: [
        .product(name: "Yams", package: "Yams"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // Running commands on hosts: local (swift-subprocess) and SSH (libssh2).
    .target(
      name: "NexusTransport",
      dependencies: [
        "NexusCore",
        "CLibSSH2",
        .product(name: "Subprocess", package: "swift-subprocess"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // PostgreSQL over libpq.
    .target(
      name: "NexusPostgres",
      dependencies: ["NexusCore", "CLibPQ"]
    ),
    // The routine backups' server-side logic: WAL archive, durable file operations, mounts.
    .target(
      name: "NexusBackup",
      dependencies: ["NexusCore", .product(name: "SystemPackage", package: "swift-system")]
    ),
    // Runbooks: loading, preflight, execution with journal and resume, prompts, reports.
    // The shell scripts it runs on the hosts are files in RemoteScripts/, embedded at build time.
    .target(
      name: "NexusEngine",
      dependencies: [
        "NexusCore", "NexusTransport", "NexusPostgres", "NexusBackup",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Mustache", package: "swift-mustache"),
        .product(name: "SystemPackage", package: "swift-system"),
      ],
      exclude: ["RemoteScripts"],
      plugins: ["EmbedRemoteScripts"]
    ),
    .executableTarget(name: "embed-remote-scripts"),
    .plugin(name: "EmbedRemoteScripts", capability: .buildTool(), dependencies: ["embed-remote-scripts"]),
    // The command line.
    .target(
      name: "NexusCLI",
      dependencies: [
        "NexusCore", "NexusTransport", "NexusEngine", "NexusBackup",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "nexus-dr", dependencies: ["NexusCLI"]),
    // Measurements for scripts/bench (against the lab).
    .executableTarget(name: "nexus-bench", dependencies: ["NexusCore", "NexusTransport", "NexusEngine"]),

    // Shared by the test targets: where the lab is and how to reach it, scratch directories,
    // an in-memory transport.
    .target(
      name: "NexusTestSupport",
      dependencies: [
        "NexusCore", "NexusTransport", "NexusPostgres", .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .testTarget(
      name: "NexusCoreTests",
      dependencies: ["NexusCore", "NexusTestSupport", .product(name: "SystemPackage", package: "swift-system")]
    ),
    .testTarget(name: "NexusBackupTests", dependencies: ["NexusBackup", "NexusCore", "NexusTestSupport"]),
    .testTarget(name: "NexusEngineTests", dependencies: ["NexusEngine", "NexusCore", "NexusTestSupport"]),
    .testTarget(
      name: "NexusTransportTests",
      dependencies: ["NexusTransport", "NexusTestSupport"]
    ),
    // The built nexus-dr run as an operator runs it (help, lint, plan, timers, exit statuses): no lab.
    .testTarget(name: "NexusCLITests", dependencies: ["NexusTransport", "NexusTestSupport"]),
    .testTarget(
      name: "NexusLabTests",
      dependencies: ["NexusCore", "NexusTransport", "NexusPostgres", "NexusEngine", "NexusBackup", "NexusTestSupport"]
    ),
  ]
)
