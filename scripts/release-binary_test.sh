#!/usr/bin/env bash
# Tests scripts/release-binary.sh, the action's choice between the released
# binary and a build from source, against releases served from a local
# folder by python3's http.server: a good release is used, and a bad
# checksum, a missing release, a missing asset, a ref that is no release tag
# (a major tag stands for the release on its commit) and a server that does
# not answer each fall back to a build (exit 1) without leaving a binary to
# run.
#
# With a GoReleaser snapshot's dist folder as argument it also serves that
# as a release and takes this machine's binary from it, which checks the
# names .goreleaser.yaml gives against those the script asks for.
set -euo pipefail
dist=${1:+$(cd "$1" && pwd)}
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
server=
cleanup() {
	[ -z "$server" ] || kill "$server"
	rm -rf "$tmp"
}
trap cleanup EXIT

# A release v1.2.3 of OWNER/feedgen as GitHub serves it, with a stand-in
# feedgen for each archive format.
rel=$tmp/www/OWNER/feedgen/releases/download/v1.2.3
mkdir -p "$rel" "$tmp/pkg"
printf '#!/bin/sh\necho feedgen v1.2.3\n' >"$tmp/pkg/feedgen"
cp "$tmp/pkg/feedgen" "$tmp/pkg/feedgen.exe"
chmod +x "$tmp/pkg/feedgen" "$tmp/pkg/feedgen.exe"
tar -czf "$rel/feedgen_1.2.3_linux_amd64.tar.gz" -C "$tmp/pkg" feedgen
(cd "$tmp/pkg" && zip -q "$rel/feedgen_1.2.3_windows_amd64.zip" feedgen.exe)
cp "$rel/feedgen_1.2.3_linux_amd64.tar.gz" "$rel/feedgen_1.2.3_linux_arm64.tar.gz"
(cd "$rel" && sha256sum feedgen_1.2.3_*) >"$rel/feedgen_1.2.3_checksums.txt"
# The arm64 archive is then replaced by one with another feedgen, whose
# checksum does not match.
mkdir "$tmp/bad"
printf '#!/bin/sh\necho tampered\n' >"$tmp/bad/feedgen"
chmod +x "$tmp/bad/feedgen"
tar -czf "$rel/feedgen_1.2.3_linux_arm64.tar.gz" -C "$tmp/bad" feedgen

# The repository's tags, as git's dumb HTTP serves them: v1 on the commit
# of the release v1.2.3 (an annotated tag), v2 on a commit no release is on.
repo_git=$tmp/www/OWNER/feedgen.git
git init -q --bare "$repo_git"
git init -q "$tmp/src"
g() { git -C "$tmp/src" -c user.name=t -c user.email=t@example.com "$@"; }
g commit -q --allow-empty -m one
g tag -a -m release v1.2.3
g tag v1
g tag -a -m older v1.2.2 HEAD
g commit -q --allow-empty -m two
g tag v2
g push -q "$repo_git" --tags
git -C "$repo_git" update-server-info

if [ -n "$dist" ]; then
	snapshot=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' "$dist/metadata.json")
	mkdir -p "$tmp/www/OWNER/feedgen/releases/download/v$snapshot"
	cp "$dist"/feedgen_"$snapshot"_* "$tmp/www/OWNER/feedgen/releases/download/v$snapshot/"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$port" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$port/" >/dev/null && break
	sleep 0.1
done

failures=0
n=0
# check NAME WANT_EXIT REF OS ARCH STDERR_PATTERN [VERSION]: runs the script
# into a fresh folder; on exit 0 the printed binary must run and print
# feedgen VERSION (default v1.2.3); on exit 1 it may print no path and
# extract nothing. $repo (default OWNER/feedgen) and $action_path set the
# action's repository and folder.
check() {
	local name=$1 want=$2 ref=$3 os=$4 arch=$5 pattern=$6 version=${7:-v1.2.3}
	local out=$tmp/out-$n code=0 path
	n=$((n + 1))
	path=$(FEEDGEN_REPOSITORY=${repo-OWNER/feedgen} FEEDGEN_REF=$ref FEEDGEN_ACTION_PATH=${action_path:-} \
		RUNNER_OS=$os RUNNER_ARCH=$arch \
		GITHUB_SERVER_URL=http://127.0.0.1:$port \
		bash scripts/release-binary.sh "$out" 2>"$tmp/stderr") || code=$?
	local why=
	if [ "$code" != "$want" ]; then
		why="exit $code, want $want"
	elif [ "$want" = 0 ] && [ "$("$path" version)" != "feedgen $version" ]; then
		why="the binary printed by the script ($path) does not print feedgen $version"
	elif [ "$want" = 1 ] && [ -n "$path" ]; then
		why="printed a path on failure: $path"
	elif [ "$want" = 1 ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
		why="extracted files on failure: $(ls -A "$out")"
	elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/stderr"; then
		why="stderr lacks '$pattern'"
	fi
	if [ -n "$why" ]; then
		echo "FAIL $name: $why"
		sed 's/^/    /' "$tmp/stderr"
		failures=$((failures + 1))
	else
		echo "ok   $name: $(tail -1 "$tmp/stderr")"
	fi
}

check "linux release, checksum good" 0 v1.2.3 Linux X64 "checksum verified"
check "windows release (zip), checksum good" 0 v1.2.3 Windows X64 "windows_amd64.zip (checksum verified)"
check "checksum bad" 1 v1.2.3 Linux ARM64 "feedgen_1.2.3_linux_arm64.tar.gz has checksum"
check "no asset for this system" 1 v1.2.3 macOS ARM64 "could not download .*darwin_arm64"
check "no release" 1 v9.9.9 Linux X64 "could not download .*v9.9.9"
check "major tag on a release's commit" 0 v1 Linux X64 "checksum verified"
check "major tag on a commit no release is on" 1 v2 Linux X64 "no release tag like v2.2.3"
check "branch" 1 main Linux X64 "not a release tag"
check "no ref" 1 "" Linux X64 "not a release tag"
repo='' action_path=/home/runner/work/_actions/OWNER/feedgen/v1.2.3 \
	check "repository and ref from the action's path" 0 "" Linux X64 "checksum verified"
repo='' action_path='D:\a\_actions\OWNER\feedgen\v1.2.3' \
	check "the same on Windows" 0 "" Windows X64 "checksum verified"
repo='' action_path=/home/runner/work/shop-data/shop-data \
	check "local action (uses: ./)" 1 "" Linux X64 "repository is unknown"
check "32-bit runner" 1 v1.2.3 Linux X86 "architecture 'X86'"
if [ -n "$dist" ]; then
	case $(uname -m) in
	aarch64 | arm64) arch=ARM64 ;;
	*) arch=X64 ;;
	esac
	check "the snapshot's archive for this machine" 0 "v$snapshot" Linux "$arch" "tar.gz (checksum verified)" "v$snapshot"
fi
kill "$server"
wait "$server" 2>/dev/null || true
server=
check "no network" 1 v1.2.3 Linux X64 "could not download"

echo "release-binary: $((n - failures)) passed, $failures failed"
[ "$failures" = 0 ]
