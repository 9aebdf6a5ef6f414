# shellcheck shell=sh
# wg-install.sh TARGET SHA256 STAMP: stdin (the gate's private key) to TARGET, mode 0600 (after durable.sh).
set -eu
target=$1; want=$2; stamp=$3; umask 077
dir=$(dirname "$target"); mkdir -p "$dir"; chmod 0700 "$dir"
tmp="$target.nexus-dr-new"; trap 'rm -f "$tmp"' EXIT
stage_file "$target"; chmod 0600 "$tmp"
[ "$(sha256sum < "$tmp" | cut -d' ' -f1)" = "$want" ] || { rm -f "$tmp"; echo "the file written differs from what was sent" >&2; exit 1; }
if [ -e "$target" ]; then
  if [ "$(sha256sum < "$target" | cut -d' ' -f1)" = "$want" ]; then rm -f "$tmp"; chmod 0600 "$target"; echo "already installed"; exit 0; fi
  mv -f "$target" "$target.replaced-$stamp"; kept="$target.replaced-$stamp"
fi
commit_file "$target"
[ "$(stat -c %a "$target")" = 600 ] || { echo "$target is not mode 0600" >&2; exit 1; }
[ -n "${kept:-}" ] && echo "replaced $kept" || echo "installed"
