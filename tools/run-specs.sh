#!/bin/sh
# run-specs.sh LUA RESULTS_DIR [busted args...]
# Runs the busted suite with one interpreter against build/LUA, prints
# busted's report and appends "passed failed skipped" to RESULTS_DIR/counts.
set -u
lua="$1"; results="$2"; shift 2
mkdir -p "$results"
log="$results/busted-$lua.log"
interp="$lua"
[ "$lua" = "luajit" ] && interp="luajit"
LUA_PATH="./?.lua;lua/?.lua;lua/?/init.lua;;" \
LUA_CPATH="build/$lua/?.so;;" \
AWSC_LUA="$lua" \
  $interp /usr/bin/busted -o plainTerminal --lpath="" --cpath="" "$@" spec >"$log" 2>&1
rc=$?
cat "$log"
line=$(grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$log" | head -n 1)  # busted's own summary comes before the failure details, which may quote nested runs
if [ -z "$line" ]; then
  echo "run-specs: busted ($lua) printed no summary (exit $rc)" >&2
  echo "0 1 0" >>"$results/counts"
  exit 0
fi
set -- $line
passed=$1; failed=$(( $4 + $7 )); skipped=${10}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed $failed $skipped" >>"$results/counts"
