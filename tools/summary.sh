#!/bin/sh
# summary.sh RESULTS_DIR - adds up RESULTS_DIR/counts and prints the one line
# CI reads: "N passed, N failed[, N skipped]". Exits 1 when anything failed.
results="$1"
p=0; f=0; s=0
if [ -f "$results/counts" ]; then
  while read -r a b c; do p=$((p + a)); f=$((f + b)); s=$((s + c)); done <"$results/counts"
else
  f=1
fi
if [ "$s" -gt 0 ]; then echo "$p passed, $f failed, $s skipped"; else echo "$p passed, $f failed"; fi
[ "$f" -eq 0 ]
