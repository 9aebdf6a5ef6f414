# shellcheck shell=bash
set -u
fb=$1; nas=$2; stamp=$3; stop_after=$4
# Only onto the NAS itself: an unmounted mount point is a directory on the server's own disk.
nas_mounted() { mountpoint -q "$nas" || { echo "$nas is not a mount point (any more): the NAS is not mounted; nothing more is moved" >&2; exit 1; }; }
nas_mounted
[ -d "$fb" ] || { echo "summary copied=0 same=0 replaced=0 bytes=0"; exit 0; }
find "$nas" -xdev -name '.nexus-dr-copy.*' -type f -delete 2>/dev/null
n=0; copied=0; same=0; replaced=0; bytes=0; conflicts=0
# Read back past the page cache where O_DIRECT works; a plain read where it is refused.
digest() {
  if dd if="$1" iflag=direct bs=1M count=0 status=none 2>/dev/null; then
    dd if="$1" iflag=direct bs=1M status=none | sha256sum | cut -d' ' -f1
  else
    sha256sum < "$1" | cut -d' ' -f1
  fi
}
copy_one() { # SOURCE DESTINATION IS_WAL
  src=$1; dest=$2; wal=$3
  [ -f "$src" ] || return 0          # moved meanwhile (archive_command flushing its spool)
  sum=$(sha256sum < "$src" | cut -d' ' -f1)
  dir=$(dirname -- "$dest")
  mkdir -p -- "$dir" || { echo "cannot create $dir" >&2; exit 1; }
  if [ -e "$dest" ]; then
    if [ "$(digest "$dest")" = "$sum" ]; then
      nas_mounted; same=$((same + 1)); rm -f -- "$src"; sync "$(dirname -- "$src")"; return 0
    fi
    if [ "$wal" = 1 ]; then
      echo "conflict $dest: an archived segment with different content; both kept"; conflicts=$((conflicts + 1)); return 0
    fi
    mv -- "$dest" "$dest.replaced-$stamp" && sync "$dir" || { echo "cannot move $dest aside" >&2; exit 1; }
    echo "replaced $dest (the NAS's copy kept as $dest.replaced-$stamp)"; replaced=$((replaced + 1))
  fi
  tmp="$dir/.nexus-dr-copy.$$"
  if ! cp -p -- "$src" "$tmp" || ! sync "$tmp"; then
    rm -f -- "$tmp"
    [ -f "$src" ] || return 0          # flushed by archive_command meanwhile
    echo "copying $src to $dir failed" >&2; exit 1
  fi
  if [ "$(digest "$tmp")" != "$sum" ]; then rm -f -- "$tmp"; echo "$dest read back differs from $src: the NAS corrupts writes; nothing removed" >&2; exit 1; fi
  mv -- "$tmp" "$dest" && sync "$dir" || { rm -f -- "$tmp"; echo "cannot rename into $dest" >&2; exit 1; }
  copied=$((copied + 1)); bytes=$((bytes + $(stat -c %s -- "$dest")))
  n=$((n + 1))
  if [ "$stop_after" -gt 0 ] && [ "$n" -gt "$stop_after" ]; then echo "stopped before removing $src"; exit 99; fi
  nas_mounted
  rm -f -- "$src"; sync "$(dirname -- "$src")"
}
if [ -d "$fb/wal-spool" ]; then
  while IFS= read -r name; do copy_one "$fb/wal-spool/$name" "$nas/wal/$name" 1; done \
    < <(find "$fb/wal-spool" -maxdepth 1 -type f ! -name '.*' -printf '%f\n' | sort)
fi
while IFS= read -r -d '' path; do
  rel=${path#"$fb"/}
  copy_one "$path" "$nas/$rel" 0
done < <(find "$fb" -path "$fb/wal-spool" -prune -o -type f ! -name '.nexus-dr-copy.*' ! -name '*.partial' -print0 | sort -z)
echo "summary copied=$copied same=$same replaced=$replaced bytes=$bytes"
[ "$conflicts" -eq 0 ]
