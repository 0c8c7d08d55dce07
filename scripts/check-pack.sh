#!/usr/bin/env bash
# Packs Pictor the way it is published, installs the tarball globally into a temporary prefix, and
# runs the installed `pictor` from another directory: `--version` must print package.json's version,
# `pictor help` must list the commands, and the install must print no EBADENGINE warning.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/pictor-*.tgz)"
tar -tzf "$tarball" >"$work/contents"
grep -qx 'package/dist/cli/main.js' "$work/contents" || { echo "check-pack: dist/cli/main.js is not in $tarball" >&2; exit 1; }
npm install -g --prefix "$work/prefix" --prefer-offline --no-audit --no-fund "$tarball" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
if grep -q EBADENGINE "$work/install.log"; then cat "$work/install.log" >&2; echo "check-pack: the install printed EBADENGINE" >&2; exit 1; fi
expected="$(node -p "require('./package.json').version")"
got="$(cd "$work" && PATH="$work/prefix/bin:$PATH" pictor --version)"
[ "$got" = "$expected" ] || { echo "check-pack: pictor --version printed '$got', expected '$expected'" >&2; exit 1; }
(cd "$work" && PATH="$work/prefix/bin:$PATH" pictor help) | grep -q 'pictor token create' || { echo "check-pack: pictor help does not list the commands" >&2; exit 1; }
echo "check-pack: npm install -g $(basename "$tarball") gives pictor $got"
