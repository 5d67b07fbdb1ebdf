#!/usr/bin/env bash
# Agreement with coordination-network-toolkit 1.5.2 (QUT, PyPI): co_retweet, co_link and
# co_tweet (exact text) edges of CNT and of `scrutineer influence scan` on the same input
# with the same parameters (window 60 s, minimum weight 2, no chance filter, no crowd cap),
# diffed as directed edge lists (user_1, user_2, weight).
#
# Two inputs, both in CNT's 8-column CSV:
#   - the real IRA file ../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz
#     (every row; PEERS_SINCE / PEERS_UNTIL = YYYY-MM-DD or PEERS_LIMIT = rows to slice);
#   - a small generated file in which each known difference kind decides some edges.
# Exits non-zero unless every edge is equal or differs by an explained kind (see
# scripts/peers_influence_compare.py and crates/influence/README.md).
#
# CNT bugs handled: its CSV export crashes (GraphML export used, with --n_messages 0
# because sample messages with control characters make the GraphML unreadable); an empty
# urls field becomes the URL '' (rows with url = '' are deleted from its message_url
# table before co_link is computed).
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
tweets="$root/../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz"
[ -f "$tweets" ] || { echo "peers-influence: missing $tweets (the shared data must sit beside the repository)" >&2; exit 2; }

work="$root/target/peers/influence"
venv="$root/target/peers/cnt-venv"
mkdir -p "$work"

# --- the peer, in its own venv (idempotent)
if ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("coordination-network-toolkit") == "1.5.2"' 2>/dev/null; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    apt-get update && apt-get install -y python3-venv
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet "coordination-network-toolkit==1.5.2"
fi
cnt="$venv/bin/compute_networks"
command -v sqlite3 >/dev/null || { apt-get update && apt-get install -y sqlite3; }

bin="${SCRUTINEER_BIN:-$root/target/release/scrutineer}"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p scrutineer
fi

window=60
min_weight=2
behaviours=(co_retweet co_link co_tweet)
map="account=user_id,handle=username,retweeted_id=repost_id,reply_to_id=reply_id,text=message"
map+=",time=timestamp,urls=urls,id=message_id,list_separator=space"

run_both() { # label csv
  local label="$1" csv="$2" dir="$work/$1"
  rm -rf "$dir" && mkdir -p "$dir/cnt"
  echo "-- CNT on $label"
  "$cnt" "$dir/cnt.db" preprocess --format csv "$csv" >/dev/null
  local empty
  empty=$(sqlite3 "$dir/cnt.db" "select count(*) from message_url where url = ''; delete from message_url where url = '';")
  echo "   deleted $empty url = '' rows (posts without links) from CNT's message_url table"
  for b in "${behaviours[@]}"; do
    "$cnt" "$dir/cnt.db" compute "$b" --time_window "$window" --min_edge_weight "$min_weight" --n_cpus 2 >/dev/null
    "$cnt" "$dir/cnt.db" export_network "$dir/cnt/$b.graphml" "$b" --output_format graphml --n_messages 0 >/dev/null
  done
  echo "-- Scrutineer on $label"
  "$bin" --quiet --store "$dir/store.db" influence scan "$csv" --format csv --map "$map" --out "$dir/scrutineer" \
    --window "$window" --min-count "$min_weight" --edge-filter none --text-similarity 1 --max-item-accounts 0 \
    --behaviours "$(IFS=,; echo "${behaviours[*]}")" --top 0 >/dev/null
  "$venv/bin/python" "$root/scripts/peers_influence_compare.py" --csv "$csv" --cnt "$dir/cnt" \
    --scrutineer "$dir/scrutineer" --window "$window" --min-weight "$min_weight" --label "$label" "${@:3}"
}

status=0
slice=()
[ -n "${PEERS_SINCE:-}" ] && slice+=(--since "$PEERS_SINCE")
[ -n "${PEERS_UNTIL:-}" ] && slice+=(--until "$PEERS_UNTIL")
[ -n "${PEERS_LIMIT:-}" ] && slice+=(--limit "$PEERS_LIMIT")
python3 "$root/scripts/influence_cnt_input.py" ira --input "$tweets" --out "$work/ira.csv" "${slice[@]}"
run_both ira "$work/ira.csv" --require-edges || status=1
python3 "$root/scripts/influence_cnt_input.py" edgecases --out "$work/edgecases.csv"
run_both edgecases "$work/edgecases.csv" --require-edges || status=1
if [ "$status" -ne 0 ]; then
  echo "peers-influence: FAIL (unexplained differences above)"
else
  echo "peers-influence: OK (every difference explained)"
fi
exit "$status"
