#!/usr/bin/env bash
# Times feedgen run end to end (read, filter, write the catalog) on generated
# CYBERBIZ-layout exports of 10k, 100k and 300k products, in both string
# layouts, next to the floor any reader pays: unzip -p of the sheet (and of
# the shared-string table) to /dev/null, measured in the same sitting.
# Prints a Markdown table: seconds, the ratio to the floor, and peak memory.
#
#   scripts/bench.sh [SIZES...]     default: 10000 100000 300000
#   BENCH_RUNS=5 scripts/bench.sh   more trials on a noisy machine
#
# Needs unzip and GNU time (/usr/bin/time); exports are cached in
# $BENCH_DIR (default /tmp/feedgen-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 300000)
dir=${BENCH_DIR:-/tmp/feedgen-bench}
mkdir -p "$dir"
for tool in unzip /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench.sh: $tool is needed (apt-get install unzip time)" >&2; exit 1; }
done

go build -o "$dir/feedgen" .
go build -o "$dir/genexport" ./scripts/genexport

# Each trial runs the floor and then feedgen, so that both see the machine
# in the same state; the best of $BENCH_RUNS trials (default 3) counts.
# Prints the floor's seconds, feedgen's seconds and feedgen's peak RSS (MB).
runs=${BENCH_RUNS:-3}
best() { [ -z "$1" ] || awk "BEGIN{exit !($2 < $1)}"; }
measure() {
	local x=$1 parts=$2 floor="" secs="" rss="" out t m
	for _ in $(seq "$runs"); do
		out=$(/usr/bin/time -f '%e' unzip -p "$x" $parts 2>&1 >/dev/null | tail -1)
		if best "$floor" "$out"; then floor=$out; fi
		rm -rf "$dir/out"
		out=$(/usr/bin/time -f '%e %M' "$dir/feedgen" run -export "$x" -out "$dir/out" -shop-url https://shop.example.com -force 2>&1 >/dev/null | tail -1)
		t=${out% *} m=${out#* }
		if best "$secs" "$t"; then secs=$t rss=$((m / 1024)); fi
	done
	echo "$floor $secs $rss"
}

echo "| products | layout | file MB | sheet XML MB | unzip floor s | feedgen s | ratio | feedgen peak MB |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
	for layout in inline shared; do
		x="$dir/export-$n-$layout.xlsx"
		flag=""
		[ "$layout" = shared ] && flag=-shared
		[ -f "$x" ] || "$dir/genexport" -products "$n" $flag -o "$x"
		parts="xl/worksheets/sheet1.xml"
		[ "$layout" = shared ] && parts="$parts xl/sharedStrings.xml"
		xml=$(unzip -l "$x" $parts | tail -1 | awk '{printf "%.0f", $1/1048576}')
		read -r floor secs rss < <(measure "$x" "$parts")
		ratio=$(awk "BEGIN{printf \"%.1f\", $secs / $floor}")
		mb=$(awk "BEGIN{printf \"%.0f\", $(stat -c %s "$x") / 1048576}")
		echo "| $n | $layout | $mb | $xml | $floor | $secs | ${ratio}× | $rss |"
	done
done
