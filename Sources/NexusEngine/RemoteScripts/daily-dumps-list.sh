# shellcheck shell=sh
[ -d "$1" ] || exit 0
find "$1" -maxdepth 1 -type f -name "$2_*.dump" -printf 'D\t%f\t%s\n'
for f in "$1"/"$2"_*.manifest.json; do [ -f "$f" ] && printf 'M\t%s\t%s\n' "$(basename "$f")" "$(tr -d '\n' < "$f")"; done
exit 0
