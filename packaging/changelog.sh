#!/bin/sh
# The Debian changelog of a package built from git: one entry for VERSION,
# dated with the commit (not the build time, so two builds of one commit
# give the same file).
set -eu
cd "$(dirname "$0")/.."
v=$1
date=$(git log -1 --format=%cD 2>/dev/null) || date=
[ -n "$date" ] || date=$(LC_ALL=C date -u -R -d @0)
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
printf 'postern (%s) unstable; urgency=medium\n\n' "$v"
printf '  * Built from the Postern source tree, git commit %s.\n' "$rev"
printf '    The history is the git log of the project.\n\n'
printf ' -- Postern developers <postern@postern.invalid>  %s\n' "$date"
