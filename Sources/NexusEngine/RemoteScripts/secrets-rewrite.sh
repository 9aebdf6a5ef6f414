# shellcheck shell=sh
# secrets-rewrite.sh PATH: stdin replaces PATH, its owner and mode kept (after durable.sh).
set -eu
umask 077; trap 'rm -f "$1.nexus-dr-new"' EXIT
stage_file "$1"; chown --reference="$1" "$1.nexus-dr-new"; chmod --reference="$1" "$1.nexus-dr-new"
commit_file "$1"; trap - EXIT
