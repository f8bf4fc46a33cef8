#!/usr/bin/env bash
# Fetches the released feedgen that action.yml runs when the action is used
# at a release tag (OWNER/feedgen@v1.2.3), or at a major tag (@v1) on the
# same commit as one, and prints its path. Any other ref, or anything
# failing on the way (no release, no asset for this
# runner, no network, a checksum that does not match), exits 1 with the
# reason on stderr, and the action builds from source instead. A binary is
# extracted only after its archive matched the release's checksums file.
#
# Usage: release-binary.sh DIR, with
#   FEEDGEN_REPOSITORY  owner/name of the action (github.action_repository)
#   FEEDGEN_REF         the action's ref (github.action_ref)
#   FEEDGEN_ACTION_PATH the action's folder (github.action_path), which names
#                       both when they are empty: GitHub does not promise
#                       them to composite actions (actions/runner#2473)
#   RUNNER_OS, RUNNER_ARCH as on a runner
#   GITHUB_SERVER_URL   https://github.com unless set (the tests serve locally,
#                       the repository's tags by git's dumb HTTP)
#
# The names are those of .goreleaser.yaml: feedgen_<version>_<os>_<arch>.tar.gz
# (.zip on Windows) and feedgen_<version>_checksums.txt, <version> being the
# tag without its v.
set -euo pipefail

dir=${1:?usage: release-binary.sh DIR}

fail() {
	echo "feedgen: no released binary: $*" >&2
	exit 1
}

repo=${FEEDGEN_REPOSITORY:-}
ref=${FEEDGEN_REF:-}
# The runner keeps a remote action in …/_actions/OWNER/NAME/REF.
path=${FEEDGEN_ACTION_PATH:-}
path=${path//\\//}
if [ -z "$repo$ref" ] && [[ $path =~ /_actions/([^/]+/[^/]+)/([^/]+)$ ]]; then
	repo=${BASH_REMATCH[1]} ref=${BASH_REMATCH[2]}
fi
[ -n "$repo" ] || fail "the action's repository is unknown (a local action, uses: ./)"
server=${GITHUB_SERVER_URL:-https://github.com}
# A major tag such as v1 moves from release to release: it stands for the
# release whose tag is on the same commit, which git ls-remote tells (no
# API call: no rate limit, no token for a public repository). If v1 was
# moved to a commit no release is on, the action builds that commit.
if [[ $ref =~ ^v[0-9]+$ ]]; then
	remote=$server/$repo.git
	tags=$(GIT_TERMINAL_PROMPT=0 git ls-remote --tags "$remote" 2>/dev/null) || fail "could not list the tags of $remote"
	# An annotated tag's commit is on its peeled line, name^{}.
	release=$(printf '%s\n' "$tags" | awk -v major="$ref" '
		{ name = $2; sub("^refs/tags/", "", name); peeled = sub("\\^\\{\\}$", "", name)
		  if (peeled || !(name in commit)) commit[name] = $1 }
		END { if (major in commit) for (n in commit)
			if (n ~ ("^" major "\\.[0-9]+\\.[0-9]+$") && commit[n] == commit[major]) print n }' |
		sort -t. -k1,1 -k2,2n -k3,3n | tail -n 1) || true
	[ -n "$release" ] || fail "$ref is on a commit that no release tag like $ref.2.3 is on"
	echo "feedgen: $ref is the release $release" >&2
	ref=$release
fi
# Only a release tag names a release; a branch or a SHA does not say
# which release's binary to take.
[[ $ref =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || fail "ref '$ref' is not a release tag like v1.2.3"
version=${ref#v}

case ${RUNNER_OS:-} in
Linux) os=linux ext=tar.gz exe=feedgen ;;
macOS) os=darwin ext=tar.gz exe=feedgen ;;
Windows) os=windows ext=zip exe=feedgen.exe ;;
*) fail "no release for runner OS '${RUNNER_OS:-}'" ;;
esac
case ${RUNNER_ARCH:-} in
X64) arch=amd64 ;;
ARM64) arch=arm64 ;;
*) fail "no release for runner architecture '${RUNNER_ARCH:-}'" ;;
esac

asset=feedgen_${version}_${os}_${arch}.$ext
sums=feedgen_${version}_checksums.txt
# Release downloads are not API calls and need no token for a public
# repository: the API's rate limit does not apply to them.
base=$server/$repo/releases/download/$ref

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
get() {
	curl -fsSL --retry 2 --connect-timeout 10 --max-time 120 -o "$tmp/$1" "$base/$1" ||
		fail "could not download $base/$1"
}
get "$sums"
get "$asset"

want=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$tmp/$sums")
[[ $want =~ ^[0-9a-f]{64}$ ]] || fail "$sums has no checksum for $asset"
if command -v sha256sum >/dev/null; then
	got=$(sha256sum "$tmp/$asset")
else
	got=$(shasum -a 256 "$tmp/$asset") # macOS
fi
got=${got%% *}
[ "$got" = "$want" ] || fail "$asset has checksum $got, but $sums says $want"

mkdir -p "$dir"
case $ext in
tar.gz) tar -xzf "$tmp/$asset" -C "$dir" "$exe" ;;
zip) unzip -q -o "$tmp/$asset" "$exe" -d "$dir" ;;
esac || fail "could not extract $exe from $asset"
chmod +x "$dir/$exe"
echo "feedgen: using the released $asset (checksum verified)" >&2
echo "$dir/$exe"
