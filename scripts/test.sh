#!/usr/bin/env bash
# The README's test command: installs what the tests need beyond the Rust toolchain
# (Chromium for the report's browser test, via scripts/setup.sh), then runs every test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
cargo test --workspace "$@"
