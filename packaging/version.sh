#!/bin/sh
# The package version: git describe in a form Debian accepts (deb-version(5):
# starts with a digit; only alphanumerics and . + ~).  A tag v1.2 gives 1.2,
# 5 commits after it 1.2+5.gabc1234; without any tag 0~gitN.gabc1234, N the
# commit count (so later commits sort later); uncommitted changes add +dirty.
# Without git: 0~unknown.
set -eu
cd "$(dirname "$0")/.."
d=$(git describe --tags --long --dirty --match 'v[0-9]*' 2>/dev/null) || d=
if [ -n "$d" ]; then
	# vTAG-N-gHASH[-dirty]
	dirty=
	case $d in *-dirty) dirty=+dirty; d=${d%-dirty} ;; esac
	hash=${d##*-}; d=${d%-*}
	n=${d##*-}; tag=${d%-*}; tag=${tag#v}
	tag=$(printf '%s' "$tag" | tr -c 'A-Za-z0-9.+~\n' '.')
	if [ "$n" = 0 ]; then v=$tag; else v=$tag+$n.$hash; fi
	printf '%s%s\n' "$v" "$dirty"
	exit 0
fi
hash=$(git rev-parse --short=7 HEAD 2>/dev/null) || { echo 0~unknown; exit 0; }
n=$(git rev-list --count HEAD)
dirty=
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=+dirty
printf '0~git%s.g%s%s\n' "$n" "$hash" "$dirty"
