# shellcheck shell=bash
set -eu
# config-restore.sh SNAPSHOT_PART STAMP PATH...: SNAPSHOT_PART is config/<time>/<part> (NASCatalog's newest).
snap=$1; stamp=$2; shift 2
cd "$snap"
# Configuration, nothing else: under the inventory's paths ("$@", globs), plain files,
# symbolic links and directories only, no setuid/setgid bit; checked before any write.
refused=""
while IFS= read -r f; do
  inside=no
  for pattern in "$@"; do
    # shellcheck disable=SC2254
    case "/$f" in $pattern|$pattern/*) inside=yes ;; esac
  done
  [ "$inside" = yes ] || refused="$refused
outside the configured paths: /$f"
done <<EOF
$(find . -mindepth 1 ! -type d ! -name .nexus-dr-excluded ! -name .nexus-dr-owners -printf '%P\n' | sort)
EOF
special=$(find . -mindepth 1 ! -type f ! -type l ! -type d -printf '/%P\n' | sort)
[ -z "$special" ] || refused="$refused
$(printf '%s\n' "$special" | sed 's/^/a device, FIFO or socket: /')"
setid=$(find . -mindepth 1 -perm /6000 ! -type l -printf '/%P\n' | sort)
[ -z "$setid" ] || refused="$refused
$(printf '%s\n' "$setid" | sed 's/^/a setuid or setgid mode: /')"
if [ -f .nexus-dr-owners ]; then
  owned=$(awk '$3 ~ /^[0-7]+$/ && length($3) == 4 && substr($3, 1, 1) ~ /[2-7]/ { print "a setuid or setgid mode in .nexus-dr-owners (" $3 "): " $4 }' .nexus-dr-owners)
  [ -z "$owned" ] || refused="$refused
$owned"
fi
if [ -n "$refused" ]; then
  printf 'the snapshot %s holds more than configuration; nothing was restored:%s\n' "$snap" "$refused" >&2
  exit 4
fi
files=$(find . \( -type f -o -type l \) ! -name .nexus-dr-excluded ! -name .nexus-dr-owners -printf '%P\n' | sort)
out=$(printf '%s\n' "$files" | rsync -a --checksum --no-implied-dirs --backup --suffix=".setup-$stamp" --files-from=- --itemize-changes ./ /) ||
  { echo "rsync from $snap to / failed" >&2; exit 1; }
echo "changed $(printf '%s\n' "$out" | grep -c '^>f' || true)"
echo "files $(printf '%s\n' "$files" | grep -c . || true)"
printf '%s\n' "$files" | while read -r f; do [ -e "/$f.setup-$stamp" ] && echo "replaced /$f.setup-$stamp"; done || true
# Owners by name (this install's uids may differ from the old server's) and modes.
if [ -f .nexus-dr-owners ]; then
  fixed=0
  while read -r u g m p; do
    [ -f "$p" ] && [ -e "./${p#/}" ] || continue
    if id -u "$u" >/dev/null 2>&1 && getent group "$g" >/dev/null 2>&1; then
      chown -h "$u:$g" "$p" && chmod "$m" "$p" && fixed=$((fixed + 1))
    else
      echo "unknown-owner $u:$g $p"
    fi
  done < .nexus-dr-owners
  echo "owners $fixed"
fi
