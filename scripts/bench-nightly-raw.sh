#!/usr/bin/env bash
# The nightly's work as a plain shell script on the server (the baseline scripts/bench
# compares nexus-dr's nightly with): the same pg_dump, checks, mirror and Clarity export,
# without snapshot-exact counts, journal or checks of the NAS. Usage: bash -s DATE DBHOST
set -euo pipefail
day=${1:?date}
nas=/mnt/nas/nexus-backup
db=(--no-password --host="${2:?database host}" --username=nexus_backup --dbname=nexus)
findmnt -n --mountpoint "$nas" > /dev/null
df -B1 --output=avail "$nas" > /dev/null
pg_dump --format=custom --compress=3 "${db[@]}" --file="$nas/daily/.nexus_$day.dump.partial"
pg_restore --list "$nas/daily/.nexus_$day.dump.partial" > /dev/null
sync "$nas/daily/.nexus_$day.dump.partial"
sha256sum "$nas/daily/.nexus_$day.dump.partial" > "$nas/daily/nexus_$day.sha256"
mv "$nas/daily/.nexus_$day.dump.partial" "$nas/daily/nexus_$day.dump"
ls -1 "$nas/daily" > /dev/null
rsync -a --delete --backup --backup-dir="$nas/attachments/.history/$day" --exclude=/.history /var/nexus/attachments/ "$nas/attachments/"
pg_dump --format=custom --schema=clarity "${db[@]}" --file="$nas/clarity/clarity_$day.dump"
pg_restore --list "$nas/clarity/clarity_$day.dump" > /dev/null
rm -f "$nas/daily/nexus_$day.sha256"
