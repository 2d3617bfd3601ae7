#!/bin/sh
# tools/deps.sh - installs (Debian, Ubuntu) or checks (elsewhere) what a
# purpose needs, from the table in tools/packages.txt.
#
#   tools/deps.sh [--lua LUA] [--check] PURPOSE...   make sure PURPOSE... is there
#   tools/deps.sh --list PURPOSE...                  the Debian packages, one line
#   tools/deps.sh --package PURPOSE CHECK-PREFIX     the package giving it on this system
#   tools/deps.sh --system                           debian, fedora, alpine, brew or other
# AWSC_DEPS_SYSTEM=fedora (etc.) forces a system: the checks run instead of dpkg.
#
# With dpkg and apt-get, the missing packages are installed with one
# apt-get call (as root; otherwise the command to run is printed and the
# exit status is 1). Without them, each row's check (a command, a
# pkg-config module, a Python or Lua module, a file) is run, and what is
# missing is printed with this system's package names; the exit status is 0
# when nothing is missing, 1 otherwise. --check never installs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
table="$here/packages.txt"
PKG=${PKG:-pkg-config}
lua=""
check_only=""
mode=ensure

system() {
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then echo debian; return; fi
  if [ "$(uname -s 2>/dev/null)" = Darwin ]; then echo brew; return; fi
  if [ -r /etc/os-release ]; then
    ids=$(. /etc/os-release; echo "${ID:-} ${ID_LIKE:-}")
    case " $ids " in
      *" fedora "*|*" rhel "*|*" centos "*) echo fedora; return ;;
      *" alpine "*) echo alpine; return ;;
    esac
  fi
  echo other
}

# rows PURPOSE...: the table's rows of these purposes, as "purpose check debian fedora alpine brew"
rows() {
  for p in "$@"; do
    awk -v p="$p" '$1 == p { print $1, $2, $3, $4, $5, $6 }' "$table"
  done
}

known_purpose() {
  awk -v p="$1" '$1 == p { found = 1 } END { exit found ? 0 : 1 }' "$table"
}

column_of() {
  case "$1" in debian) echo 3 ;; fedora) echo 4 ;; alpine) echo 5 ;; brew) echo 6 ;; *) echo 3 ;; esac
}

# present CHECK: whether what CHECK describes is there (no dpkg needed)
present() {
  kind=${1%%:*}; what=${1#*:}
  old_ifs=$IFS; IFS='|'; set -- $what; IFS=$old_ifs
  for alt in "$@"; do
    case "$kind" in
      cmd) case "$alt" in /*) [ -x "$alt" ] && return 0 ;; *) command -v "$alt" >/dev/null 2>&1 && return 0 ;; esac ;;
      pc) command -v "$PKG" >/dev/null 2>&1 && "$PKG" --exists "$alt" 2>/dev/null && return 0 ;;
      py) py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3   # the one the project runs
          "$py" -c "import $alt" >/dev/null 2>&1 && return 0 ;;
      lua)
        mod=${alt%@*}; interp=${lua:-lua5.4}
        case "$alt" in *@*) interp=${alt#*@} ;; esac
        "$interp" -e "require('$mod')" >/dev/null 2>&1 && return 0 ;;
      file) for f in $alt; do [ -e "$f" ] && return 0; done ;;
      ngx) for d in /usr/lib/nginx/modules /usr/share/nginx/modules /usr/local/openresty/nginx/modules \
                    /usr/lib64/nginx/modules /usr/local/lib/nginx/modules; do
             [ -e "$d/$alt.so" ] && return 0
           done ;;
    esac
  done
  return 1
}

# how_to NAME: the install command for a package name of this system's column
how_to() {
  case "$1" in
    luarocks:*) echo "luarocks install ${1#luarocks:}" ;;
    pip:*) echo "pip3 install ${1#pip:}" ;;
    -) echo "(no package known; see the README's package table)" ;;
    *) echo "$1" ;;
  esac
}

installer() {
  case "$1" in
    fedora) echo "dnf install" ;; alpine) echo "apk add" ;; brew) echo "brew install" ;; *) echo "install" ;;
  esac
}

while [ $# -gt 0 ]; do
  case "$1" in
    --lua) lua="$2"; shift 2 ;;
    --check) check_only=1; shift ;;
    --list) mode=list; shift ;;
    --package) mode=package; shift ;;
    --system) system; exit 0 ;;
    --) shift; break ;;
    -*) echo "deps: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done

sys=${AWSC_DEPS_SYSTEM:-$(system)}
col=$(column_of "$sys")

if [ "$mode" = package ]; then
  # --package PURPOSE PREFIX: e.g. --package build pc:libcjson -> "libcjson-dev"
  name=$(rows "$1" | awk -v pre="$2" -v c="$col" 'index($2, pre) == 1 { print $c; exit }')
  [ -n "$name" ] || { echo "(the package providing $2)"; exit 0; }
  echo "$(how_to "$name")"
  exit 0
fi

purposes=""
for p in "$@"; do
  case " $purposes " in *" $p "*) continue ;; esac
  if known_purpose "$p"; then purposes="$purposes $p"
  else echo "deps: no package list for '$p' (tools/packages.txt); make sure it is installed" >&2; fi
done
# shellcheck disable=SC2086
set -- $purposes

if [ "$mode" = list ]; then
  rows "$@" | awk '$3 != "-" { print $3 }' | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//'
  echo
  exit 0
fi

label=$(echo "$purposes" | sed 's/^ //')

if [ "$sys" = debian ]; then
  want=$(rows "$@" | awk '$3 != "-" { print $3 }' | awk '!seen[$0]++')
  [ -n "$want" ] || exit 0
  # shellcheck disable=SC2086
  have=$(dpkg-query -W -f='${Package} ${Status}\n' $want 2>/dev/null | awk '/ install ok installed$/ { print $1 }')
  missing=""
  for p in $want; do
    echo "$have" | grep -qx "$p" || missing="$missing $p"
  done
  [ -n "$missing" ] || exit 0
  if [ -n "$check_only" ]; then echo "deps ($label): missing Debian packages:$missing"; exit 1; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps ($label): missing Debian packages:$missing"
    echo "deps: run as root, or: sudo apt-get install --no-install-recommends$missing"
    exit 1
  fi
  echo "deps ($label): installing$missing"
  log=$(mktemp /tmp/awsc-deps.XXXXXX)
  # shellcheck disable=SC2086
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         -o DPkg::Lock::Timeout=600 $missing; } >"$log" 2>&1; then
    rm -f "$log"; exit 0
  fi
  tail -n 20 "$log"; rm -f "$log"
  echo "deps ($label): apt-get could not install:$missing"
  exit 1
fi

# No dpkg: check each row and name this system's package for what is missing.
missing=""; names=""
tab=$(printf '\t')
list=$(rows "$@" | awk -v c="$col" '{ print $2, $c }')
while read -r check name; do
  [ -n "$check" ] || continue
  present "$check" && continue
  missing="$missing
  ${check}${tab}$(how_to "$name")"
  case "$name" in -|luarocks:*|pip:*) ;; *) names="$names $name" ;; esac
done <<EOF
$list
EOF
[ -n "$missing" ] || exit 0
echo "deps ($label): missing on $sys (no dpkg/apt-get here; nothing was installed):$missing"
if [ -n "$names" ]; then
  echo "deps: install with: $(installer "$sys")$(echo "$names" | tr ' ' '\n' | awk 'NF && !seen[$0]++ { printf " %s", $0 }')"
fi
exit 1
