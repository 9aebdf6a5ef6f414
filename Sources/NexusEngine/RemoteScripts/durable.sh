# shellcheck shell=sh
# The one durable write of a file on a host, prepended to every script that writes one.
# stage_file TARGET: stdin into TARGET.nexus-dr-new, fsync'd (the caller then sets its
# mode and owner, and checks it); commit_file TARGET: fsync it again (its mode and owner),
# rename it over TARGET, fsync the directory.
stage_file() { cat > "$1.nexus-dr-new" && sync "$1.nexus-dr-new"; }
commit_file() { sync "$1.nexus-dr-new" && mv -f "$1.nexus-dr-new" "$1" && sync "$(dirname "$1")"; }
