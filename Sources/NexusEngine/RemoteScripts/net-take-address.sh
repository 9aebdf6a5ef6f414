# shellcheck shell=sh
set -u
addr=$1
case $addr in *[!0-9.]*|"") echo "'$addr' is not an IPv4 address; a DNS name cannot be taken over: give the gate's address" >&2; exit 2;; esac
if ip -o -4 addr show | grep -q " inet $addr/"; then
  echo "already here: $(ip -o -4 addr show | grep " inet $addr/" | awk '{print $2, $4}')"; exit 0
fi
route=$(ip -o route get "$addr" 2>/dev/null) || { echo "no route from this host to $addr" >&2; exit 1; }
case $route in *" via "*) echo "$addr is not on a subnet this host is on ($route): it cannot take it over" >&2; exit 1;; esac
dev=$(printf '%s\n' "$route" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
[ -n "$dev" ] || { echo "no interface toward $addr" >&2; exit 1; }
prefix=$(ip -o -4 addr show dev "$dev" | awk '{print $4}' | head -n 1 | cut -d/ -f2)
[ -n "$prefix" ] || { echo "$dev has no IPv4 address to take the prefix from" >&2; exit 1; }
# iputils' arping (its -D is duplicate-address detection; another arping's -D is not).
iputils=no; arping -V 2>&1 | grep -q iputils && iputils=yes
if [ $iputils = yes ]; then
  arping -D -q -c 2 -w 2 -I "$dev" "$addr" || { echo "$addr still answers on $dev (ARP): the old gate is still on the network. Power it off or unplug it, then resume." >&2; exit 3; }
else
  if ping -c 2 -W 1 "$addr" >/dev/null 2>&1 || ip neigh show "$addr" dev "$dev" | grep -q 'lladdr.*REACHABLE'; then
    echo "$addr still answers: the old gate is still on the network. Power it off or unplug it, then resume." >&2; exit 3
  fi
fi
ip address add "$addr/$prefix" dev "$dev" || { echo "ip address add $addr/$prefix dev $dev failed" >&2; exit 1; }
[ $iputils = yes ] && arping -q -U -c 2 -w 3 -I "$dev" "$addr" || true
echo "took over $addr/$prefix on $dev"
