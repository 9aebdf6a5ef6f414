# shellcheck shell=bash
set -eu
# secrets-list.sh SNAPSHOT_PART: what the snapshot could not hold (NASCatalog finds the newest).
snap=$1
echo "snapshot $snap"
cd "$snap"
[ -f .nexus-dr-excluded ] && sed 's/^/excluded /' .nexus-dr-excluded || echo "unlisted yes"
[ -f .nexus-dr-owners ] && sed 's/^/owner /' .nexus-dr-owners
find . -type f ! -name .nexus-dr-excluded ! -name .nexus-dr-owners -printf '%P\n' | while read -r f; do
  grep -E '\[REDACTED\]' "$f" | sed -E 's/^[[:space:]]*([^=:[:space:]]+).*/\1/' | sed "s#^#redacted /$f #"
done || true
