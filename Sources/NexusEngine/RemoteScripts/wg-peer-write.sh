# shellcheck shell=sh
# wg-peer-write.sh TARGET SHA256 STAMP: stdin replaces TARGET (its owner and mode kept), the
# old one kept as TARGET.before-STAMP (after durable.sh).
set -eu
target=$1; want=$2; stamp=$3; umask 077
tmp="$target.nexus-dr-new"; trap 'rm -f "$tmp"' EXIT
stage_file "$target"; chmod --reference="$target" "$tmp"; chown --reference="$target" "$tmp"
[ "$(sha256sum < "$tmp" | cut -d' ' -f1)" = "$want" ] || { rm -f "$tmp"; echo "the file written differs from what was sent" >&2; exit 1; }
cp -p "$target" "$target.before-$stamp"; sync "$target.before-$stamp"
commit_file "$target"
echo "$target.before-$stamp"
