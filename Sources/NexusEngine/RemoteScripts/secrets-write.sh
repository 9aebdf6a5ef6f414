# shellcheck shell=sh
# secrets-write.sh PATH USER GROUP MODE: stdin (a secret) to PATH, mode 0600, or USER:GROUP
# and MODE when this install knows them (after durable.sh).
set -eu
umask 077; dir=$(dirname "$1"); mkdir -p "$dir"; trap 'rm -f "$1.nexus-dr-new"' EXIT
stage_file "$1"; chmod 0600 "$1.nexus-dr-new"
if [ -n "$2" ] && id -u "$2" >/dev/null 2>&1 && getent group "$3" >/dev/null 2>&1; then
  chown "$2:$3" "$1.nexus-dr-new"; chmod "$4" "$1.nexus-dr-new"
fi
commit_file "$1"; trap - EXIT
