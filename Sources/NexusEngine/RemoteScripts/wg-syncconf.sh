# shellcheck shell=bash
conf=$(wg-quick strip "$2") || exit 1
printf '%s\n' "$conf" | grep -q '^\[Peer\]' || { echo "wg-quick strip $2 gave no peer: not applied" >&2; exit 1; }
wg syncconf "$1" <(printf '%s\n' "$conf") && wg show "$1" peers
