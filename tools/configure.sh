#!/bin/sh
# tools/configure.sh OUT - resolves the compiler and library flags of one
# build (one Lua) and writes them to OUT (build/<lua>/config.mk), which the
# compile step of the Makefile includes and every object depends on. OUT is
# only rewritten when a flag changed, so a change of flags rebuilds and an
# unchanged configuration rebuilds nothing.
#
# Runs when `make build` runs, after `make deps`, never while the Makefile
# is parsed. A flag given to make (LUA_CFLAGS, DEP_CFLAGS, CORE_LIBS,
# CURL_LIBS; LuaRocks gives all four) is used as given; the others come
# from pkg-config. A module pkg-config cannot find stops the build with the
# package to install: a module is never linked without its libraries.
#
# Environment: CONF_LUA (lua5.4, ...), CONF_LUA_PC (pkg-config names to try),
# CONF_LUA_ABI (5.4, ...), PKG, CC, CFLAGS, LDFLAGS, LIBFLAG, and the four
# flag variables above.
set -u
out="$1"
here=$(cd "$(dirname "$0")" && pwd)
lua=${CONF_LUA:-lua5.4}
PKG=${PKG:-pkg-config}
CC=${CC:-cc}
LUA_CFLAGS=${LUA_CFLAGS:-}; DEP_CFLAGS=${DEP_CFLAGS:-}; CORE_LIBS=${CORE_LIBS:-}; CURL_LIBS=${CURL_LIBS:-}
problems=""

hint() { sh "$here/deps.sh" --package "$1" "$2" 2>/dev/null; }

note() {
  problems="$problems
  $1"
}

have_pkg=""
if command -v "$PKG" >/dev/null 2>&1; then have_pkg=1; fi

if ! command -v "$CC" >/dev/null 2>&1; then
  note "the C compiler '$CC' is not installed: install $(hint build cmd:cc) (or pass CC=...)"
fi

need_pkg() {
  if [ -z "$have_pkg" ]; then
    note "$1 needs pkg-config, and '$PKG' is not installed: install $(hint build cmd:pkg-config), or pass $1=..."
    return 1
  fi
  return 0
}

# --- Lua headers --------------------------------------------------------------
if [ -z "$LUA_CFLAGS" ] && need_pkg LUA_CFLAGS; then
  found=""
  for m in ${CONF_LUA_PC:-$lua}; do
    if "$PKG" --exists "$m" 2>/dev/null; then found=$m; break; fi
  done
  # a generic "lua" module (Fedora, Homebrew) only when it is this version
  if [ -z "$found" ] && [ -n "${CONF_LUA_ABI:-}" ] && "$PKG" --exists lua 2>/dev/null; then
    case "$("$PKG" --modversion lua 2>/dev/null)" in "$CONF_LUA_ABI"|"$CONF_LUA_ABI".*) found=lua ;; esac
  fi
  if [ -n "$found" ]; then
    LUA_CFLAGS=$("$PKG" --cflags "$found")
    # a module whose cflags name no directory (headers in /usr/include) is fine
    [ -n "$LUA_CFLAGS" ] || LUA_CFLAGS=" "
  else
    h=$(hint "$lua" pc:)
    case "$h" in "("*) h="the headers of $lua (its development package)" ;; esac
    note "$PKG finds no Lua headers for $lua (tried: ${CONF_LUA_PC:-$lua}): install $h, or pass LUA_CFLAGS=-I/path/to/lua/include"
  fi
fi

# --- libcurl, cJSON, OpenSSL -------------------------------------------------
missing_mods=""
if { [ -z "$DEP_CFLAGS" ] || [ -z "$CORE_LIBS" ] || [ -z "$CURL_LIBS" ]; } && need_pkg "DEP_CFLAGS, CORE_LIBS and CURL_LIBS"; then
  for m in libcurl libcjson openssl; do
    if ! "$PKG" --exists "$m" 2>/dev/null; then
      missing_mods="$missing_mods $m"
      note "$PKG cannot find $m: install $(hint build "pc:$m")"
    fi
  done
  if [ -z "$missing_mods" ]; then
    [ -n "$DEP_CFLAGS" ] || DEP_CFLAGS=$("$PKG" --cflags libcurl libcjson openssl)
    [ -n "$CORE_LIBS" ] || CORE_LIBS=$("$PKG" --libs libcjson libcrypto)
    [ -n "$CURL_LIBS" ] || CURL_LIBS=$("$PKG" --libs libcurl)
  fi
fi

# --- the headers really are there (catches wrong flags given by hand) ---------
if [ -z "$problems" ]; then
  for h in "lua.h:LUA_CFLAGS:$lua pc:" "curl/curl.h:DEP_CFLAGS:build pc:libcurl" \
           "cjson/cJSON.h:DEP_CFLAGS:build pc:libcjson" "openssl/evp.h:DEP_CFLAGS:build pc:openssl"; do
    file=${h%%:*}; rest=${h#*:}; var=${rest%%:*}; pkg=${rest#*:}
    # shellcheck disable=SC2086
    if ! printf '#include <%s>\n' "$file" | "$CC" $LUA_CFLAGS $DEP_CFLAGS -E -x c - >/dev/null 2>&1; then
      note "$file is not found with $var='$(eval echo "\$$var")': install $(hint ${pkg% *} "${pkg#* }")"
    fi
  done
fi

if [ -n "$problems" ]; then
  echo "configure ($lua): cannot build:$problems" >&2
  echo "configure: \`make deps\` installs what the build needs (Debian, Ubuntu; elsewhere it lists it)." >&2
  exit 1
fi

# make-quote: '$' -> '$$', '#' -> '\#'
mq() { printf '%s' "$1" | sed -e 's/\$/$$/g' -e 's/#/\\#/g'; }

tmp="$out.tmp.$$"
mkdir -p "$(dirname "$out")"
{
  echo "# $out - written by tools/configure.sh for LUA=$lua; \`make\` rewrites it when a flag changes"
  echo "CC := $(mq "$CC")"
  echo "CFLAGS := $(mq "${CFLAGS:-}")"
  echo "LDFLAGS := $(mq "${LDFLAGS:-}")"
  echo "LIBFLAG := $(mq "${LIBFLAG:--shared}")"
  echo "LUA_CFLAGS := $(mq "$LUA_CFLAGS")"
  echo "DEP_CFLAGS := $(mq "$DEP_CFLAGS")"
  echo "CORE_LIBS := $(mq "$CORE_LIBS")"
  echo "CURL_LIBS := $(mq "$CURL_LIBS")"
} >"$tmp"
if [ -f "$out" ] && cmp -s "$tmp" "$out"; then
  rm -f "$tmp"
else
  mv "$tmp" "$out"
fi
