# shellcheck shell=sh
set -eu
umask 077; dir=$(dirname "$1"); mkdir -p "$dir"; trap 'rm -f "$1.nexus-dr-new"' EXIT
cat > "$1.nexus-dr-new"; chmod 0600 "$1.nexus-dr-new"
if [ -n "$2" ] && id -u "$2" >/dev/null 2>&1 && getent group "$3" >/dev/null 2>&1; then
  chown "$2:$3" "$1.nexus-dr-new"; chmod "$4" "$1.nexus-dr-new"
fi
sync "$1.nexus-dr-new"; mv -f "$1.nexus-dr-new" "$1"; trap - EXIT
