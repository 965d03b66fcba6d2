#!/usr/bin/env bash
# go-tool.sh NAME PACKAGE VERSION LINK: installs a pinned Go tool once per version into
# ${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}/tools/NAME/VERSION/ (outside the clone, so
# that a fresh clone on the same machine does not build it again) and links LINK to it.
set -euo pipefail
name=$1 pkg=$2 version=$3 link=$4
cache=${DISTRICTLAKE_CACHE:-$HOME/.cache/districtlake}/tools/$name/$version
if [ ! -x "$cache/$name" ]; then
  echo "go-tool: installing $pkg@$version into $cache" >&2
  mkdir -p "$cache.tmp"
  GOBIN="$cache.tmp" go install "$pkg@$version"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
mkdir -p "$(dirname "$link")"
ln -sf "$cache/$name" "$link"
