# shellcheck shell=sh
set -eu
target=$1; want=$2; stamp=$3; umask 077
tmp="$target.nexus-dr-new"
cat > "$tmp"; chmod --reference="$target" "$tmp"; chown --reference="$target" "$tmp"; sync "$tmp"
[ "$(sha256sum < "$tmp" | cut -d' ' -f1)" = "$want" ] || { rm -f "$tmp"; echo "the file written differs from what was sent" >&2; exit 1; }
cp -p "$target" "$target.before-$stamp"; sync "$target.before-$stamp"
mv -f "$tmp" "$target"; sync "$(dirname "$target")"
echo "$target.before-$stamp"
