#!/usr/bin/env bash
# Fuzz the infra readers only; see scripts/fuzz.sh, which fuzzes every engine.
#   FUZZ_SECONDS=20 scripts/fuzz-infra.sh
set -euo pipefail
exec bash "$(git rev-parse --show-toplevel)/scripts/fuzz.sh" infra
