# shellcheck shell=bash
set -eu
nas=$1; part=$2
snap=$(ls -1d "$nas"/config/2*/"$part" 2>/dev/null | sort | tail -n 1)
[ -n "$snap" ] || { echo "no snapshot of $part under $nas/config" >&2; exit 3; }
echo "snapshot $snap"
cd "$snap"
[ -f .nexus-dr-excluded ] && sed 's/^/excluded /' .nexus-dr-excluded || echo "unlisted yes"
[ -f .nexus-dr-owners ] && sed 's/^/owner /' .nexus-dr-owners
find . -type f ! -name .nexus-dr-excluded ! -name .nexus-dr-owners -printf '%P\n' | while read -r f; do
  grep -E '\[REDACTED\]' "$f" | sed -E 's/^[[:space:]]*([^=:[:space:]]+).*/\1/' | sed "s#^#redacted /$f #"
done || true
