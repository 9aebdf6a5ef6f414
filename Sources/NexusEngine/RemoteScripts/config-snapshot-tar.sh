# shellcheck shell=sh
excludes=$(mktemp); list=$(mktemp)
printf '%s\n' "$1" > "$excludes"; shift
IFS='
'
for p in "$@"; do for f in $p; do [ -e "$f" ] && printf '%s\n' "${f#/}" >> "$list"; done; done
# The names (never the contents) of the excluded files: the secrets a restore must put back.
names=$(mktemp -d)
tar -C / -cvf /dev/null --files-from="$list" 2>/dev/null | sort > "$names/all"
tar -C / -cvf /dev/null -X "$excludes" --files-from="$list" 2>/dev/null | sort > "$names/kept"
comm -23 "$names/all" "$names/kept" | grep -v '/$' | sed 's#^#/#' > "$names/.nexus-dr-excluded"
# Owners by name and modes of every file (excluded ones too): a new install's users may
# have other uids than the numbers the snapshot's files carry.
grep -v '/$' "$names/all" | while IFS= read -r f; do stat -c '%U %G %a %n' -- "/$f" 2>/dev/null; done > "$names/.nexus-dr-owners"
tar -C / -czf - -X "$excludes" --files-from="$list" -C "$names" .nexus-dr-excluded .nexus-dr-owners 2>/dev/null
status=$?; rm -rf "$list" "$excludes" "$names"; [ $status -le 1 ] || exit $status
