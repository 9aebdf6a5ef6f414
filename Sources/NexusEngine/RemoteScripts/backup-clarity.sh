# shellcheck shell=bash
set -e
dir=$1; day=$2; cutoff=$3; shift 3
mkdir -p "$dir"
partial="$dir/.clarity_$day.dump.partial"
trap 'rm -f "$partial"' EXIT
pg_dump "$@" --file="$partial"
pg_restore --list "$partial" > /dev/null
sync "$partial"; mv -f "$partial" "$dir/clarity_$day.dump"; sync "$dir"
stat -c %s "$dir/clarity_$day.dump"
pruned=0
for f in "$dir"/clarity_*.dump; do
  [ -f "$f" ] || continue
  d=$(basename "$f" .dump); d=${d#clarity_}
  case "$d" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) continue ;; esac
  if [ "$d" \< "$cutoff" ]; then rm -f "$f"; pruned=$((pruned+1)); fi
done
echo "pruned=$pruned"
