#!/bin/sh
# One parse per process: peak RSS (/usr/bin/time -f %M), and the parse's own
# wall and CPU time and minor page faults (RESULT line of jsonmem).
#   coldrun.sh REPS FILE... > cold.txt
REPS=$1; shift
B=${JSONPARSERS_BUILD:-.} # the folder that holds jsonmem
T=$(mktemp)
for f in "$@"; do
  for r in $(seq "$REPS"); do
    for m in read readpadded doc plan dom ondemand domsketch odsketch parsejson llvm; do
      res=$(/usr/bin/time -f "PEAK %M" -o "$T" "$B/jsonmem" "$m" "$f" 2>/dev/null)
      echo "$(basename "$f") $res $(cat "$T")"
    done
  done
done
rm -f "$T"
