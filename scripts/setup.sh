#!/usr/bin/env bash
# Installs what the tests, evaluations and benchmarks need beyond the Rust toolchain.
# Idempotent: installs only what is missing. Debian packages need root (CI runs as root).
set -euo pipefail
need_apt=()
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
[ -x /usr/bin/time ] || need_apt+=(time)
# The server's HTTPS test makes a certificate with openssl and speaks to it with curl.
command -v openssl >/dev/null || need_apt+=(openssl)
command -v curl >/dev/null || need_apt+=(curl)
# The report's browser test opens it in headless Chromium.
command -v chromium >/dev/null || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo is not installed (see README)" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt 2>/dev/null || true
echo "setup: python3 $(python3 --version 2>&1 | cut -d' ' -f2), sqlite3 $(sqlite3 --version | cut -d' ' -f1), $(chromium --version 2>/dev/null | head -1), $(cargo --version)"
