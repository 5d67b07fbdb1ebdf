# Sourced by the hunt peer scripts (peers-hunt.sh, bench-hunt.sh), run from the repository
# root: the Zircolite-style peer pipeline (evtx to flatten records into SQLite, pySigma with
# its SQLite backend and the Windows/Sysmon pipelines) in a virtualenv under target/, and
# the scrutineer executable (SCRUTINEER_BIN runs an existing build instead of the release
# one). Sets venv and bin.
hunt_peer_setup() {
  venv="$PWD/target/peers-hunt-venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet evtx pysigma pysigma-backend-sqlite pysigma-pipeline-sysmon pysigma-pipeline-windows
  bin="${SCRUTINEER_BIN:-}"
  if [ -z "$bin" ]; then
    cargo build --release -p scrutineer --quiet
    bin="$PWD/target/release/scrutineer"
  fi
}
