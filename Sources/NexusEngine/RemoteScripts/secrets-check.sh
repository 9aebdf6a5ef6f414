# shellcheck shell=sh
while [ $# -ge 2 ]; do
  kind=$1; what=$2; shift 2
  if [ "$kind" = f ]; then [ -s "$what" ] || echo "$what (file missing or empty)"
  else
    file=${what%%	*}; key=${what#*	}
    grep -E "^[[:space:]]*${key}[[:space:]]*[=:].*\[REDACTED\]" "$file" >/dev/null 2>&1 && echo "$file: $key (still [REDACTED])"
  fi
done
exit 0
