# shellcheck shell=sh
set -e
db=$1; dump=$2; jobs=$3; marker=$4; shift 4
dropdb --if-exists "$@" "$db"
createdb "$@" "$db" "$marker"
pg_restore --exit-on-error --jobs="$jobs" "$@" --dbname="$db" "$dump"
