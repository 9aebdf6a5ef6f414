# shellcheck shell=bash
set -e
root=$1; partial=$2; final=$3; shift 3
mkdir -p "$root"
# Partial copies from interrupted earlier runs are never backups.
find "$root" -maxdepth 1 -name '.*.partial' -exec rm -rf {} +
find "$root" -maxdepth 1 -name '.verify.*' -exec rm -rf {} +
"$(pgtool pg_basebackup)" "$@"
# Verify on the same filesystem as the backup, not on the server's root disk.
scratch=$(mktemp -d "$root/.verify.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
tar -xzf "$partial/base.tar.gz" -C "$scratch"
mkdir -p "$scratch/pg_wal" && tar -xzf "$partial/pg_wal.tar.gz" -C "$scratch/pg_wal"
"$(pgtool pg_verifybackup)" --manifest-path="$partial/backup_manifest" "$scratch"
sync "$partial"/*
rm -rf "$final"; mv "$partial" "$final"; sync "$root"
du -sb "$final" | cut -f1
grep -o '"Start-LSN": "[^"]*"' "$final/backup_manifest" | head -n 1 | cut -d'"' -f4
