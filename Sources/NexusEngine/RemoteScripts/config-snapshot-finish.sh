# shellcheck shell=bash
set -e
# Any byte is a character: a file that is not UTF-8 is redacted and searched like the others.
export LC_ALL=C
# config-snapshot-finish.sh STAGE ROOT STAMP LATEST DETECTOR SED-EXPRESSION...: LATEST is the
# newest snapshot so far (NASCatalog's; empty when there is none).
stage=$1; root=$2; stamp=$3; latest=$4; detector=$5; shift 5
trap 'rm -rf "$stage"' EXIT
# Redactor's rules, in their order; they keep password_encryption = scram-sha-256
# (a restored postgresql.conf with it redacted would not start) and PublicKey lines.
rules=(); for rule in "$@"; do rules+=(-e "$rule"); done
find "$stage" -type f -exec sed -i -E "${rules[@]}" {} +
# Names the files (by their path in the snapshot, never a line of them) in which $1
# survived and refuses the snapshot. grep's status 1 is "none"; 2 (a file it could not
# read) refuses too.
refuse_if_found() {
  local what=$1 found status=0; shift
  found=$(grep -rIl "$@" -- "$stage") || status=$?
  if [ "$status" -gt 1 ]; then echo "cannot search the snapshot for $what (grep status $status)" >&2; exit 4; fi
  if [ -n "$found" ]; then
    echo "$what survived redaction in:" >&2
    printf '%s\n' "$found" | while IFS= read -r f; do printf '  %s\n' "${f#"$stage"/}"; done >&2
    exit 4
  fi
}
# A WireGuard key is 44 base64 characters: none may remain after redaction.
refuse_if_found "a private key" -E -e '^[[:space:]]*((PrivateKey|PresharedKey)[[:space:]]*=[[:space:]]*)?[A-Za-z0-9+/]{42,43}=[[:space:]]*$'
# Redactor.detectorERE: a setting named like a secret or a URL with a password, not [REDACTED].
refuse_if_found "a secret" -i -E -e "$detector"
mkdir -p "$root"; chmod 700 "$root"
if [ -n "$latest" ] && diff -r -q "$stage" "$latest" > /dev/null 2>&1; then
  echo "unchanged $latest"; exit 0
fi
# Exit 4 is a refusal only: rsync's own 4 becomes 1.
if [ -n "$latest" ]; then rsync -a --link-dest="$latest" "$stage/" "$root/.$stamp.partial/"; else rsync -a "$stage/" "$root/.$stamp.partial/"; fi ||
  { status=$?; echo "rsync into $root failed (status $status)" >&2; exit 1; }
sync -f "$root/.$stamp.partial"
mv "$root/.$stamp.partial" "$root/$stamp"; sync "$root"
echo "new $root/$stamp"
