# shellcheck shell=sh
database=$1; jobs=$2; shift 2
"$(pgtool pg_amcheck)" --install-missing --heapallindexed --jobs="$jobs" "$@" -d "$database" 2>&1
