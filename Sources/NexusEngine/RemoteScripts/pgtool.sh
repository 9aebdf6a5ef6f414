# shellcheck shell=sh
# pgtool NAME: the path of a PostgreSQL tool, from PATH or the newest /usr/lib/postgresql/*/bin.
# Prepended to the scripts that run PostgreSQL tools.
pgtool() { command -v "$1" 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1; }
