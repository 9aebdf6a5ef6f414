# shellcheck shell=bash
set -e
src=$1; dst=$2; day=$3; cutoff=$4
[ -d "$src" ] || { echo "the attachments directory $src does not exist" >&2; exit 3; }
mkdir -p "$dst/.history"
# An empty source (an unmounted attachments volume) would move the whole mirror
# into history, to be pruned a week later: refuse instead.
if [ -z "$(ls -A "$src")" ] && find "$dst" -mindepth 1 -maxdepth 1 ! -name .history | grep -q .; then
  echo "$src is empty but the mirror is not: is the attachments volume mounted? Nothing was changed." >&2; exit 4
fi
log=$(mktemp); rc=0
rsync -a --delete --backup --backup-dir="$dst/.history/$day" --exclude=/.history --stats "$src/" "$dst/" > "$log" 2>&1 || rc=$?
grep -E '^Number of (regular )?files transferred|^Number of deleted files' "$log" || true
if [ $rc -ne 0 ] && [ $rc -ne 24 ]; then cat "$log" >&2; rm -f "$log"; exit $rc; fi
rm -f "$log"
pruned=0
for d in "$dst"/.history/*/; do
  [ -d "$d" ] || continue
  name=$(basename "$d")
  case "$name" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) continue ;; esac
  if [ "$name" \< "$cutoff" ]; then rm -rf "$d"; pruned=$((pruned+1)); fi
done
sync -f "$dst"
echo "pruned=$pruned"
