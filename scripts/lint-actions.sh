#!/usr/bin/env bash
# Lints the project's own workflows (CI, release) and the example workflow with
# actionlint, pinned so results do not change under us; Go fetches it from
# the module proxy on first use. A second pass lints a copy of the example
# that uses this checkout's action.yml in place of OWNER/feedgen@v1, so the
# example's inputs are checked against the action.
set -euo pipefail
cd "$(dirname "$0")/.."
actionlint=github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

go run "$actionlint" .github/workflows/*.yml examples/github-workflow.yml

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.github/workflows"
cp action.yml "$tmp/"
sed 's|uses: OWNER/feedgen@v1|uses: ./|' examples/github-workflow.yml >"$tmp/.github/workflows/github-workflow.yml"
git -C "$tmp" init --quiet # actionlint finds the project root by its .git
cd "$tmp"
go run "$actionlint" -no-color .github/workflows/github-workflow.yml
