# shellcheck shell=sh
fb=$1
[ -d "$fb" ] || { echo "nothing ($fb does not exist)"; exit 0; }
out=""
for d in daily wal-spool base config clarity attachments restore-test; do
  [ -d "$fb/$d" ] || continue
  n=$(find "$fb/$d" -type f ! -name '.nexus-dr-copy.*' | wc -l)
  [ "$n" -gt 0 ] && out="$out$d: $n file(s), "
done
echo "${out}$(du -sb "$fb" | cut -f1) bytes in $fb"
