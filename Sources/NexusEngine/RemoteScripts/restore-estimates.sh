# shellcheck shell=sh
cd "$1/restore-test" 2>/dev/null || exit 0
for f in $(ls -1 result-*.json 2>/dev/null | sort -r | head -n 10); do printf 'R\t'; tr -d '\n' < "$f"; echo; done
f=$(ls -1 pitr-*.json 2>/dev/null | sort | tail -n 1)
[ -n "$f" ] && { printf 'P\t'; tr -d '\n' < "$f"; echo; }
exit 0
