# shellcheck shell=bash
root=$1; spool=$2; data=$3
for d in "$root"/base/*/; do
  d=${d%/}; [ -f "$d/backup_manifest" ] || continue
  range=$(tr -d ' \n' < "$d/backup_manifest" | grep -o '"Timeline":[0-9]*,"Start-LSN":"[^"]*"' | head -n 1)
  size=$(grep -o '"Size": *[0-9]*' "$d/backup_manifest" | awk -F: '{ s += $2 } END { print s + 0 }')
  printf 'base\t%s\t%s\t%s\t%s\t%s\n' "$d" "$(du -sb "$d" | cut -f1)" "$size" "$(stat -c %Y "$d/backup_manifest")" "$range"
done
find "$root/wal" "$spool" -maxdepth 1 -type f -printf 'wal\t%f\t%T@\n' 2>/dev/null
[ -f "$root/wal/.cluster" ] && printf 'cluster\t%s\n' "$(head -c 32 "$root/wal/.cluster" | tr -d '\n')"
for h in "$root"/wal/*.history "$spool"/*.history; do
  [ -f "$h" ] && printf 'history\t%s\t%s\n' "${h##*/}" "$(base64 -w 0 < "$h")"
done
parent=$(dirname "$data")
[ -d "$parent" ] && printf 'avail\t%s\n' "$(df -B1 --output=avail "$parent" | tail -n 1 | tr -d ' ')"
[ -d "$root" ] && printf 'nasavail\t%s\n' "$(df -B1 --output=avail "$root" | tail -n 1 | tr -d ' ')"
exit 0
