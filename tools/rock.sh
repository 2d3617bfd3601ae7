#!/bin/sh
# tools/rock.sh OUTDIR - a source rock of this checkout, made offline
# (`make rock`): the files of the checkout (git's tracked and untracked but
# not ignored ones, else everything but build/ and .git/) go into
# OUTDIR/lua-aws-connect-scm-1.tar.gz, a copy of the rockspec whose url is
# that archive goes beside it, and `luarocks pack` makes
# OUTDIR/lua-aws-connect-scm-1.src.rock from the two. Installing that rock
# (luarocks install FILE.src.rock) builds it from the archive inside it.
set -eu
out=$1
name=lua-aws-connect-scm-1
root=$(cd "$(dirname "$0")/.." && pwd)
command -v luarocks >/dev/null 2>&1 || { echo "rock: luarocks is not installed (make deps-rocks)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/$name"
out=$(cd "$out" && pwd)
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard
else
  find . \( -path ./build -o -path ./.git \) -prune -o -type f -print0
fi | (cd "$root" && xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\n" "${f#./}"; done' sh) \
  | grep -v '^build/' | tar -cf - -T - | tar -xf - -C "$out/$name"
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
rm -rf "${out:?}/$name"
sed "s|^  url = .*|  url = \"file://$out/$name.tar.gz\",|" "$name.rockspec" >"$out/$name.rockspec"
cd "$out" && luarocks pack "$name.rockspec" >/dev/null
echo "rock: $out/$name.src.rock"
