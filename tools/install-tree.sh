#!/bin/sh
# tools/install-tree.sh SRC DEST [NAME-PATTERN] - `make install`'s copy of a
# tree: every file under SRC (named NAME-PATTERN when given, e.g. '*.lua')
# goes to the same place under DEST, mode 644, with one install call per
# folder (a few hundred generated modules install in well under a second).
# Only folders that receive files are made. Nothing is listed by hand.
set -eu
src=$1; dest=$2; name=${3:-*}
cd "$src"
find . -type d | sort | while read -r d; do
  [ -n "$(find "$d" -maxdepth 1 -type f -name "$name" | head -n 1)" ] || continue
  install -d "$dest/$d"
  find "$d" -maxdepth 1 -type f -name "$name" -exec sh -c 'install -m 644 "$@" "$0"' "$dest/$d" {} +
done
