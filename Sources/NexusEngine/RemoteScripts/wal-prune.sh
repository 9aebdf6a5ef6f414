# shellcheck shell=bash
cd "$1/wal" 2>/dev/null || { echo removed=0; exit 0; }
n=0
for f in $(find . -maxdepth 1 -type f -name '[0-9A-F]*' -mmin +"$3" -printf '%f\n' | sort); do
  case "$f" in *.history) continue ;; esac
  seg=${f%%.*}
  if [ "${seg}" \< "$2" ]; then rm -f -- "$f"; n=$((n+1)); fi
done
sync .
echo removed=$n
