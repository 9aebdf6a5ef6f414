# shellcheck shell=sh
set -eu
umask 077; trap 'rm -f "$1.nexus-dr-new"' EXIT
cat > "$1.nexus-dr-new"; chown --reference="$1" "$1.nexus-dr-new"; chmod --reference="$1" "$1.nexus-dr-new"
sync "$1.nexus-dr-new"; mv -f "$1.nexus-dr-new" "$1"; trap - EXIT
