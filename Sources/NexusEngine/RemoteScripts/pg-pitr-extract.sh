# shellcheck shell=bash
set -e
data=$1; base=$2; aside=$3; settings=$4; extracting=$5; recovering=$6; target=$7; timeline=$9
install -d -o postgres -g postgres -m 0700 "$data"
printf '%s\n%s\n%s\n%s\n' "$aside" "$base" "$target" "$timeline" > "$data/$extracting"
tar -xzf "$base/base.tar.gz" -C "$data"
mkdir -p "$data/pg_wal"
tar -xzf "$base/pg_wal.tar.gz" -C "$data/pg_wal"
rm -f "$data/recovery.signal" "$data/standby.signal" "$data/postmaster.pid"
copied=0
# WAL is only taken from a data directory of the same cluster (system identifier).
sid() { pgc=$(command -v pg_controldata || ls -1 /usr/lib/postgresql/*/bin/pg_controldata 2>/dev/null | tail -n 1); [ -n "$pgc" ] && "$pgc" "$1" 2>/dev/null | sed -n 's/^Database system identifier: *//p'; }
if [ "$8" = new-cluster ]; then aside=""
elif [ -n "$aside" ] && [ -d "$aside/pg_wal" ]; then
  old_sid=$(sid "$aside"); new_sid=$(sid "$data")
  # Unknown (no pg_controldata, a damaged pg_control): taken, as before; different: never.
  if [ -n "$old_sid" ] && [ -n "$new_sid" ] && [ "$old_sid" != "$new_sid" ]; then echo "other=$old_sid"; aside=""; fi
fi
if [ -n "$aside" ] && [ -d "$aside/pg_wal" ]; then
  for f in "$aside"/pg_wal/*; do
    n=${f##*/}
    case "$n" in ????????????????????????|*.history) ;; *) continue ;; esac
    [ -f "$f" ] && [ ! -e "$data/pg_wal/$n" ] || continue
    cp -p -- "$f" "$data/pg_wal/$n"; copied=$((copied + 1))
  done
fi
printf '%s' "$settings" >> "$data/postgresql.auto.conf"
touch "$data/recovery.signal"
chown -R postgres:postgres "$data"
chmod 0700 "$data"
sync -f "$data/PG_VERSION"
mv "$data/$extracting" "$data/$recovering"
sync "$data"
echo "copied=$copied"
