# shellcheck shell=sh
nas=$1; fallback=$2
line=$(findmnt -n -o TARGET,FSTYPE --mountpoint "$nas" 2>/dev/null | tail -n 1)
echo "mount	$line"
if [ -n "$line" ]; then
  echo "free	$(df -B1 --output=avail "$nas" | tail -n 1 | tr -d ' ')"
  probe="$nas/.nexus-dr-health-$$"
  if echo probe > "$probe" 2>/dev/null; then echo "writable	yes"; rm -f "$probe"; else echo "writable	no"; fi
fi
for root in "$nas" "$fallback"; do
  [ "$root" = "$nas" ] && [ -z "$line" ] && continue
  where=nas; [ "$root" = "$fallback" ] && where=fallback
  for f in "$root"/daily/nexus_*.dump; do [ -f "$f" ] && printf 'dump\t%s\t%s\t%s\n' "$where" "$(basename "$f")" "$(stat -c %s "$f")"; done
  for m in "$root"/daily/nexus_*.manifest.json; do [ -f "$m" ] && printf 'manifest\t%s\t%s\t%s\n' "$where" "$(basename "$m")" "$(tr -d '\n' < "$m")"; done
  for b in "$root"/base/*/backup_manifest; do [ -f "$b" ] && printf 'base\t%s\t%s\t%s\n' "$where" "$(basename "$(dirname "$b")")" "$(stat -c %Y "$b")"; done
  for r in "$root"/restore-test/result-*.json; do [ -f "$r" ] && printf 'restore\t%s\t%s\t%s\n' "$where" "$(basename "$r")" "$(tr -d '\n' < "$r")"; done
done
echo "spool	$(find "$fallback/wal-spool" -maxdepth 1 -type f -name '[0-9A-F]*' 2>/dev/null | wc -l)"
[ -n "$line" ] && [ -f "$nas/wal/.cluster" ] && echo "cluster	$(head -c 32 "$nas/wal/.cluster" | tr -d '\n')"
echo "now	$(date +%s)"
exit 0
