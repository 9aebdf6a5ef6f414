# shellcheck shell=sh
if [ -f "$1/$3" ]; then echo recovering; cat -- "$1/$3"
elif [ -f "$1/$2" ]; then echo extracting; cat -- "$1/$2"
elif [ -e "$1" ]; then echo damaged
else echo absent; cat -- "$1.nexus-dr-aside" 2>/dev/null; fi
