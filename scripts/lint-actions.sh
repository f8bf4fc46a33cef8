#!/usr/bin/env bash
# Lints the example workflow with actionlint, pinned so results do not change
# under us; Go fetches it from the module proxy on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 examples/github-workflow.yml
