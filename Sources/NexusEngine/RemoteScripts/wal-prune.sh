# shellcheck shell=bash
# wal-prune.sh ROOT: removes the files of ROOT/wal named on stdin, one per line (NASCatalog's
# prunable segments), then fsyncs the directory.
cd "$1/wal" 2>/dev/null || { echo removed=0; exit 0; }
n=0
while IFS= read -r f; do
  case "$f" in ''|*/*|.*|*.history) continue ;; esac
  [ -f "$f" ] && rm -f -- "$f" && n=$((n+1))
done
sync .
echo removed=$n
