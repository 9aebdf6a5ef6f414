# shellcheck shell=sh
# write-file.sh PATH: stdin to PATH, durably (after durable.sh).
stage_file "$1" && commit_file "$1" || { rm -f "$1.nexus-dr-new"; exit 1; }
