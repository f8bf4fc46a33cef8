#!/usr/bin/env bash
# Times feedgen run end to end (read, filter, write the catalog) on generated
# CYBERBIZ-layout exports of 10k, 100k and 300k products, in both string
# layouts, next to the floor any reader pays: unzip -p of the sheet (and of
# the shared-string table) to /dev/null, measured in the same sitting.
# Prints a Markdown table: seconds, the ratio to the floor, and peak memory.
#
#   scripts/bench.sh [SIZES...]     default: 10000 100000 300000
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

# best of three wall-clock seconds and the peak RSS (MB) of that run
measure() {
	local best="" rss="" out
	for _ in 1 2 3; do
		out=$(/usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1)
		local t=${out% *} m=${out#* }
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t rss=$((m / 1024)); fi
	done
	echo "$best $rss"
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
		read -r floor _ < <(measure unzip -p "$x" $parts)
		rm -rf "$dir/out"
		read -r secs rss < <(measure "$dir/feedgen" run -export "$x" -out "$dir/out" -shop-url https://shop.example.com -force)
		ratio=$(awk "BEGIN{printf \"%.1f\", $secs / $floor}")
		mb=$(awk "BEGIN{printf \"%.0f\", $(stat -c %s "$x") / 1048576}")
		echo "| $n | $layout | $mb | $xml | $floor | $secs | ${ratio}× | $rss |"
	done
done
