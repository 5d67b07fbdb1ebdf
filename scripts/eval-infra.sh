#!/usr/bin/env bash
# Detection on the labelled CSIC 2010 HTTP dataset: learn a profile of normal traffic
# from normalTrafficTraining only, scan the normal and anomalous test files, and print
# precision, recall, F1 and the false-positive rate (positive = verdict attack or
# anomaly).
#
# Gates sit a stated tolerance from the figures measured on the even halves
# (precision 0.9989, recall 0.9840, F1 0.9914, FPR 0.0008 = 14 of 18,000): precision,
# recall and F1 may fall at most 0.004 below them (about 50 more false positives or
# misses), the FPR may rise at most 0.001 above (18 more false positives). The TP/FP/FN/TN
# counts are what those four figures are computed from; the per-rule counts are a
# breakdown for reading, not gated. Each bar can be set with MIN_PRECISION, MIN_RECALL,
# MIN_F1 and MAX_FPR (e.g. for the other halves).
#
# Other halves of the test set can be checked with the same settings:
#   CSIC_NORMAL_TEST=... CSIC_ANOMALOUS_TEST=... scripts/eval-infra.sh
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
data="$root/../shared/data/infra/csic2010"
train="${CSIC_TRAIN:-$data/normalTrafficTraining.txt.gz}"
normal="${CSIC_NORMAL_TEST:-$data/normalTrafficTest-even.txt.gz}"
anomalous="${CSIC_ANOMALOUS_TEST:-$data/anomalousTrafficTest-even.txt.gz}"
min_precision="${MIN_PRECISION:-0.9949}"
min_recall="${MIN_RECALL:-0.9800}"
min_f1="${MIN_F1:-0.9874}"
max_fpr="${MAX_FPR:-0.0018}"

for f in "$train" "$normal" "$anomalous"; do
  if [ ! -f "$f" ]; then
    echo "eval-infra: missing data file $f" >&2
    exit 2
  fi
done

cd "$root"
cargo build --release -p scrutineer --quiet
bin="$root/target/release/scrutineer"
work="$root/target/eval-infra"
rm -rf "$work"
mkdir -p "$work"

"$bin" --quiet infra learn "$train" --format http --out "$work/profile.json"
"$bin" --quiet --store "$work/eval.db" infra scan "$normal" "$anomalous" --format http \
  --profile "$work/profile.json" --out "$work/scan" --no-store > "$work/scan.txt"

events="$work/scan/events.csv"
head -n1 "$events" | grep -qx 'file,index,verdict,rule' || { echo "eval-infra: bad header in $events" >&2; exit 1; }

count_requests() { zcat -f "$1" | grep -a -c -E '^(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|TRACE) [^ ]+ HTTP/[0-9.]+'$'\r''?$' || true; }
n_normal_expected=$(count_requests "$normal")
n_anom_expected=$(count_requests "$anomalous")

awk -F, -v normal="$normal" -v anomalous="$anomalous" -v min_f1="$min_f1" \
    -v min_precision="$min_precision" -v min_recall="$min_recall" -v max_fpr="$max_fpr" \
    -v en="$n_normal_expected" -v ea="$n_anom_expected" '
NR == 1 { next }
{
  # The file column may be quoted if the path holds a comma; compare unquoted.
  file = $1; gsub(/^"|"$/, "", file)
  pos = ($3 != "normal")
  if (file == normal) { nn++; if (pos) fp++ }
  else if (file == anomalous) { na++; if (pos) tp++; else missed[$4]++ }
  split($4, rs, ";"); if (pos) for (i in rs) if (file == anomalous) hit[rs[i]]++; else fhit[rs[i]]++
}
END {
  if (nn != en || na != ea) {
    printf "eval-infra: row counts differ from the request counts (normal %d vs %d, anomalous %d vs %d)\n", nn, en, na, ea > "/dev/stderr"
    exit 1
  }
  fn_ = na - tp
  precision = (tp + fp) ? tp / (tp + fp) : 0
  recall = na ? tp / na : 0
  f1 = (precision + recall) ? 2 * precision * recall / (precision + recall) : 0
  fpr = nn ? fp / nn : 0
  printf "CSIC 2010: %d normal, %d anomalous test requests\n", nn, na
  printf "TP %d  FP %d  FN %d  TN %d\n", tp, fp, fn_, nn - fp
  printf "precision %.4f\nrecall    %.4f\nF1        %.4f\nFPR       %.4f\n", precision, recall, f1, fpr
  printf "rules on anomalous requests:"; for (r in hit) printf " %s=%d", r, hit[r]; printf "\n"
  printf "rules on normal requests:   "; for (r in fhit) printf " %s=%d", r, fhit[r]; printf "\n"
  bad = 0
  if (precision < min_precision) { printf "FAIL: precision %.4f is below %.4f\n", precision, min_precision; bad = 1 }
  if (recall < min_recall) { printf "FAIL: recall %.4f is below %.4f\n", recall, min_recall; bad = 1 }
  if (f1 < min_f1) { printf "FAIL: F1 %.4f is below %.4f\n", f1, min_f1; bad = 1 }
  if (fpr > max_fpr) { printf "FAIL: FPR %.4f is above %.4f\n", fpr, max_fpr; bad = 1 }
  if (bad) exit 1
  printf "OK: precision %.4f >= %.4f, recall %.4f >= %.4f, F1 %.4f >= %.4f, FPR %.4f <= %.4f\n", precision, min_precision, recall, min_recall, f1, min_f1, fpr, max_fpr
}' "$events"
