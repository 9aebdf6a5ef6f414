# shellcheck shell=sh
# health-gather.sh NAS: the NAS mount, its free space, and whether it takes a write (a probe
# file written and removed). The backups themselves are read by NASCatalog.
nas=$1
line=$(findmnt -n -o TARGET,FSTYPE --mountpoint "$nas" 2>/dev/null | tail -n 1)
echo "mount	$line"
if [ -n "$line" ]; then
  echo "free	$(df -B1 --output=avail "$nas" | tail -n 1 | tr -d ' ')"
  probe="$nas/.nexus-dr-health-$$"
  if echo probe > "$probe" 2>/dev/null; then echo "writable	yes"; rm -f "$probe"; else echo "writable	no"; fi
fi
exit 0
