# shellcheck shell=sh
[ ! -e "$2" ] || exit 1
printf '%s\n' "$2" > "$1.nexus-dr-aside" && sync "$1.nexus-dr-aside" && mv -- "$1" "$2" && sync "$(dirname "$1")"
