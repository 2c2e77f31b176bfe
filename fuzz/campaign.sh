#!/bin/sh
# campaign.sh - one bounded libFuzzer run of a target, then a merge that
# keeps only the inputs adding coverage over the committed corpus.
#
#   fuzz/campaign.sh TARGET SECONDS DIR
#
# Builds with fuzz/build.sh (libFuzzer, ASan+UBSan) into DIR/out when the
# target is missing or older than its source, fuzzes a copy of
# fuzz/corpus/TARGET at nice 19 (the machine is shared), and leaves:
#   DIR/TARGET.log      libFuzzer's output with -print_final_stats
#   DIR/TARGET.new/     inputs that add coverage (hash names: rename them
#                       descriptively before committing)
#   crash-*/leak-*/timeout-* in DIR/TARGET.art/ if anything was found
set -eu
t=$1 secs=$2 dir=$3
top=$(cd "$(dirname "$0")/.." && pwd)
out=$dir/out

mkdir -p "$dir"
if [ ! -x "$out/$t" ] || [ "$top/fuzz/$t.c" -nt "$out/$t" ]; then
	CC=clang CXX=clang++ \
	    CFLAGS="-fsanitize=address,undefined,fuzzer-no-link -g -O1" \
	    LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$out" WORK="$dir/work" \
	    nice -n 19 "$top/fuzz/build.sh" >"$dir/build.log" 2>&1
fi
rm -rf "$dir/$t.run" "$dir/$t.new" "$dir/$t.art"
mkdir -p "$dir/$t.run" "$dir/$t.new" "$dir/$t.art"
cp "$top/fuzz/corpus/$t/"* "$dir/$t.run/" 2>/dev/null || true
dict=""
[ -f "$top/fuzz/$t.dict" ] && dict="-dict=$top/fuzz/$t.dict"
maxlen=$(sed -n 's/^max_len *= *//p' "$top/fuzz/$t.options" 2>/dev/null || true)
# shellcheck disable=SC2086
nice -n 19 "$out/$t" $dict ${maxlen:+-max_len=$maxlen} -max_total_time="$secs" \
    -print_final_stats=1 -artifact_prefix="$dir/$t.art/" "$dir/$t.run" \
    >"$dir/$t.log" 2>&1 || echo "campaign.sh: $t stopped with a finding, see $dir/$t.art" >&2
# Merge into a copy of the committed corpus: what lands there is new.
rm -rf "$dir/$t.base" && mkdir -p "$dir/$t.base"
cp "$top/fuzz/corpus/$t/"* "$dir/$t.base/" 2>/dev/null || true
ls "$dir/$t.base" >"$dir/$t.before"
nice -n 19 "$out/$t" -merge=1 "$dir/$t.base" "$dir/$t.run" >"$dir/$t.merge.log" 2>&1
for f in "$dir/$t.base"/*; do
	grep -qxF "$(basename "$f")" "$dir/$t.before" || cp "$f" "$dir/$t.new/"
done
grep -E '^stat::|^#[0-9]+ *(INITED|DONE)' "$dir/$t.log" || true
echo "new inputs: $(ls "$dir/$t.new" | wc -l)"
