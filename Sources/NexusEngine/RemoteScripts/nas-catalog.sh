# shellcheck shell=bash
# nas-catalog.sh SPOOL DATA_DIRECTORY ROOT...: what nexus-dr keeps under each backup root
# (the NAS, the fallback), one tab-separated line per item, read by NASCatalog. Read-only;
# a missing directory lists nothing. SPOOL and DATA_DIRECTORY may be empty.
spool=$1; data=$2; shift 2
for root in "$@"; do
  mount=$(findmnt -n -o TARGET,FSTYPE --mountpoint "$root" 2>/dev/null | tail -n 1)
  avail=""; [ -d "$root" ] && avail=$(df -B1 --output=avail "$root" | tail -n 1 | tr -d ' ')
  printf 'root\t%s\t%s\t%s\n' "$root" "$mount" "$avail"
  for f in "$root"/daily/*.dump; do [ -f "$f" ] && [ ! -L "$f" ] && printf 'dump\t%s\t%s\t%s\n' "$root" "${f##*/}" "$(stat -c %s "$f")"; done
  for m in "$root"/daily/*.manifest.json; do [ -f "$m" ] && printf 'manifest\t%s\t%s\t%s\n' "$root" "${m##*/}" "$(tr -d '\n' < "$m")"; done
  for d in "$root"/base/*/; do
    d=${d%/}; [ -d "$d" ] || continue
    if [ -f "$d/backup_manifest" ]; then
      range=$(tr -d ' \n' < "$d/backup_manifest" | grep -o '"Timeline":[0-9]*,"Start-LSN":"[^"]*"' | head -n 1)
      size=$(grep -o '"Size": *[0-9]*' "$d/backup_manifest" | awk -F: '{ s += $2 } END { print s + 0 }')
      printf 'base\t%s\t%s\t%s\t%s\t%s\t%s\n' "$root" "${d##*/}" "$(du -sb "$d" | cut -f1)" "$size" "$(stat -c %Y "$d/backup_manifest")" "$range"
    else
      printf 'incomplete\t%s\t%s\n' "$root" "${d##*/}"
    fi
  done
  if [ -d "$root/restore-test" ]; then
    for f in $(cd "$root/restore-test" && ls -1 result-*.json 2>/dev/null | sort -r | head -n 10); do
      printf 'result\t%s\t%s\t%s\n' "$root" "$f" "$(tr -d '\n' < "$root/restore-test/$f")"
    done
    f=$(cd "$root/restore-test" && ls -1 pitr-*.json 2>/dev/null | sort | tail -n 1)
    [ -n "$f" ] && printf 'pitr\t%s\t%s\t%s\n' "$root" "$f" "$(tr -d '\n' < "$root/restore-test/$f")"
  fi
  for c in "$root"/config/2*/; do
    [ -d "$c" ] || continue
    c=${c%/}; parts=""
    for p in server gate gate/etc/wireguard; do [ -d "$c/$p" ] && parts="$parts$p,"; done
    printf 'config\t%s\t%s\t%s\n' "$root" "${c##*/}" "${parts%,}"
  done
  if [ -d "$root/wal" ]; then
    find "$root/wal" -maxdepth 1 -type f ! -name '.*' -printf 'wal\t%f\t%T@\n'
    [ -f "$root/wal/.cluster" ] && printf 'cluster\t%s\t%s\n' "$root" "$(head -c 32 "$root/wal/.cluster" | tr -d '\n')"
    for h in "$root"/wal/*.history; do [ -f "$h" ] && printf 'history\t%s\t%s\n' "${h##*/}" "$(base64 -w 0 < "$h")"; done
  fi
done
if [ -n "$spool" ] && [ -d "$spool" ]; then
  find "$spool" -maxdepth 1 -type f ! -name '.*' -printf 'spool\t%f\t%T@\n'
  for h in "$spool"/*.history; do [ -f "$h" ] && printf 'history\t%s\t%s\n' "${h##*/}" "$(base64 -w 0 < "$h")"; done
fi
if [ -n "$data" ]; then
  parent=$(dirname "$data")
  [ -d "$parent" ] && printf 'avail\t%s\n' "$(df -B1 --output=avail "$parent" | tail -n 1 | tr -d ' ')"
fi
exit 0
