#!/bin/sh
# run-demo.sh LUA - starts the bundled fake Connect server on a free
# loopback port, runs the examples against it, and stops the server.
set -eu
lua="${1:-lua5.4}"
cd "$(dirname "$0")/.."
log=$(mktemp)
/usr/bin/python3 spec/support/fake_connect.py --port 0 \
  --access-key AKIDDEMO --secret-key demo-secret-key --region us-east-1 \
  --create-delay 1 --parent-pid $$ >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT INT TERM
port=""
i=0
while [ $i -lt 200 ]; do
  port=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.05; i=$((i + 1))
done
[ -n "$port" ] || { echo "fake server did not start" >&2; cat "$log" >&2; exit 1; }
echo "fake Connect server listening on 127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo-secret-key
export AWS_ENDPOINT_URL_CONNECT="http://127.0.0.1:$port"
export LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/$lua/?.so;;"
"$lua" examples/create_instance.lua
if [ -f examples/lifecycle.lua ]; then "$lua" examples/lifecycle.lua; fi
