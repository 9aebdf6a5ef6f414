# shellcheck shell=sh
used=$( [ -d "$1" ] && du -sb "$1" | cut -f1 || echo 0 )
free=$(df -B1 --output=avail "$2" | tail -n 1 | tr -d ' ')
echo "$used $free"
