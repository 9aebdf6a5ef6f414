# shellcheck shell=sh
# The one durable write of a file on a host, prepended to every script that writes one.
# stage_file TARGET: stdin into TARGET.nexus-dr-new, fsync'd (the caller then sets its
# mode and owner, and checks it); commit_file TARGET: fsync it again (its mode and owner),
# rename it over TARGET, fsync the directory. Where sync takes no file (an old coreutils),
# a plain sync stands in.
sync_path() { sync "$1" 2>/dev/null || sync; }
stage_file() { cat > "$1.nexus-dr-new" && sync_path "$1.nexus-dr-new"; }
commit_file() { sync_path "$1.nexus-dr-new" && mv -f "$1.nexus-dr-new" "$1" && sync_path "$(dirname "$1")"; }
