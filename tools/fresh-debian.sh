#!/bin/sh
# tools/fresh-debian.sh - the README's two commands on a fresh Debian 12, as a
# newcomer runs them: a clean chroot (debootstrap minbase plus build-essential,
# pkg-config, libssl-dev, git, python3, ca-certificates), a clone of the
# committed HEAD of a checkout, then `make demo` and `make test`, once each,
# in this order, nothing before them. `make fresh-check` and .ci/run run it.
#
#   tools/fresh-debian.sh [--cache DIR] [--logs DIR] [CHECKOUT]
#
# Needs root and Debian's archive. The base root is cached as DIR/base.tar
# (default /var/cache/lua-aws-connect-ci; about 2 minutes to make once) and
# the .deb files apt fetches in DIR/archives, so a later run downloads
# nothing it had. Logs: DIR/../logs or --logs (demo.log, test.log, verdict).
# Prints one line; exit status 0 when the demo printed an instance ARN and
# the test run ended with "N passed, 0 failed".
set -u
cache=/var/cache/lua-aws-connect-ci
# one run at a time per cache (two chroots would share its apt archives)
case " $* " in *" --cache "*) c=$(printf '%s\n' "$@" | awk 'p { print; exit } $0 == "--cache" { p = 1 }') ;; *) c=$cache ;; esac
if [ -z "${FRESH_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
  mkdir -p "$c"
  FRESH_LOCKED=1 exec flock "$c/lock" sh "$0" "$@"
fi
logs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) cache=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    -*) echo "fresh-debian: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
logs=${logs:-/tmp/fresh-logs}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-1200}
TEST_TIMEOUT=${TEST_TIMEOUT:-2400}

[ "$(id -u)" -eq 0 ] || { echo "fresh-debian: needs root (debootstrap, chroot, mount)"; exit 2; }
mkdir -p "$cache/archives/partial" "$logs"
base="$cache/base.tar"

# the archive this machine's apt uses
mirror=${FRESH_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)}
[ -n "$mirror" ] || mirror=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

root=""
# Unmounts what was mounted in $1 and removes it, but only once nothing is
# mounted below it any more (never deletes through a bind mount).
teardown() {
  d=$1
  [ -n "$d" ] && [ -d "$d" ] || return 0
  for m in var/cache/apt/archives dev proc; do
    if grep -q " $d/$m " /proc/mounts; then umount "$d/$m" 2>/dev/null || umount -l "$d/$m"; fi
  done
  if grep -q " $d/" /proc/mounts; then
    echo "fresh-debian: $d still has mounts; left in place" >&2
    return 1
  fi
  rm -rf "$d"
}
trap 'teardown "$root"' EXIT
trap 'exit 130' INT TERM

# --- the base root, made once --------------------------------------------------
if [ ! -s "$base" ]; then
  command -v debootstrap >/dev/null 2>&1 || \
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null 2>&1
  root=$(mktemp -d /tmp/fresh-base.XXXXXX)
  echo "fresh-debian: making the base root (debootstrap bookworm from $mirror)"
  if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$logs/debootstrap.log" 2>&1; then
    echo "fresh-debian: debootstrap failed (log: $logs/debootstrap.log)"; exit 1
  fi
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"; mount --bind /dev "$root/dev"
  chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    build-essential pkg-config libssl-dev git python3 ca-certificates' >>"$logs/debootstrap.log" 2>&1
  rc=$?
  umount "$root/proc" "$root/dev"
  [ $rc -eq 0 ] || { echo "fresh-debian: the base packages failed (log: $logs/debootstrap.log)"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  teardown "$root"; root=""
fi

# --- a fresh root with a clone of HEAD -----------------------------------------
root=$(mktemp -d /tmp/fresh-run.XXXXXX)
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
head=$(git -C "$src" rev-parse HEAD)
git clone -q "$src" "$root/root/p" || { echo "fresh-debian: clone of $src failed"; exit 1; }

t0=$(date +%s)
chroot "$root" sh -c "cd /root/p && timeout $DEMO_TIMEOUT make demo" >"$logs/demo.log" 2>&1; drc=$?
t1=$(date +%s)
chroot "$root" sh -c "cd /root/p && timeout $TEST_TIMEOUT make test" >"$logs/test.log" 2>&1; trc=$?
t2=$(date +%s)
arns=$(grep -c 'arn:aws:connect:' "$logs/demo.log")
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/test.log" | tail -n 1)
last=$(grep -v '^[[:space:]]*$' "$logs/test.log" | tail -n 1)

verdict=FAIL
if [ $drc -eq 0 ] && [ "$arns" -gt 0 ] && [ $trc -eq 0 ] && echo "$summary" | grep -q ' 0 failed'; then verdict=PASS; fi
echo "$head $verdict demo=${drc}/$((t1 - t0))s test=${trc}/$((t2 - t1))s $summary" >"$logs/verdict"
if [ $drc -ne 0 ] || [ "$arns" -eq 0 ]; then
  echo "fresh Debian: first make demo exit $drc, ARN lines $arns; last: $(grep -v '^[[:space:]]*$' "$logs/demo.log" | tail -n 1 | cut -c1-160) (logs: $logs)"
  exit 1
fi
if [ "$verdict" != PASS ]; then
  echo "fresh Debian: make demo ok ($((t1 - t0)) s); make test exit $trc (${summary:-no count line}); last: $(echo "$last" | cut -c1-160) (logs: $logs)"
  exit 1
fi
echo "fresh Debian: make demo printed an ARN ($((t1 - t0)) s); make test: $summary ($((t2 - t1)) s)"
