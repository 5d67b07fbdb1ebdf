#!/usr/bin/env bash
# Throughput and peak memory of `scrutineer infra scan` (parsing + every detector)
# against GoAccess (parsing + aggregation) on the same ~1M-line combined log built
# from the real Apache logs in ../shared, and request rate against nginx +
# libmodsecurity + OWASP CRS (the detection peer) on requests from the same log.
# Fails if Scrutineer parses (with detection on) slower than GoAccess parses alone.
#   LINES=1000000 scripts/bench-infra.sh
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
data="$root/../shared/data/infra"
lines="${LINES:-1000000}"
for f in "$data/elastic-apache-logs/apache_logs" "$data/apache-http-logs-scans/acunetix.txt" \
         "$data/apache-http-logs-scans/netsparker.txt" "$data/apache-http-logs-scans/w3af.txt"; do
  [ -f "$f" ] || { echo "bench-infra: missing data file $f" >&2; exit 2; }
done

apt_updated=0
need_pkg() { # install Debian packages once, quietly
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
need_pkg goaccess time

cd "$root"
cargo build --release -p scrutineer --quiet
bin="$root/target/release/scrutineer"
work="$root/target/bench-infra"
mkdir -p "$work"
log="$work/combined-${lines}.log"
if [ ! -s "$log" ]; then
  # Real benign traffic and real scanner traffic (the scans' extra quotes removed),
  # repeated to size; every repetition shifts the client addresses so that
  # per-source state grows as it would on a real server.
  base="$work/base.log"
  { cat "$data/elastic-apache-logs/apache_logs"
    sed -e 's/^"//' -e 's/"$//' "$data/apache-http-logs-scans/"{acunetix,netsparker,w3af}.txt; } > "$base"
  n=$(wc -l < "$base")
  reps=$(( (lines + n - 1) / n ))
  for r in $(seq 1 "$reps"); do
    awk -v r="$r" 'BEGIN{OFS=" "} { split($1, o, "."); if (o[4] != "") $1 = o[1] "." o[2] "." ((o[3] + r) % 256) "." o[4]; print }' "$base"
  done | head -n "$lines" > "$log"
fi
n=$(wc -l < "$log")
size=$(du -m "$log" | cut -f1)
echo "input: $n combined lines, ${size} MB ($log)"

measure() { # prints "seconds peak_kb"
  local out="$work/time.txt"
  /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; return 1; }
  tail -n1 "$out"
}

read -r g_s g_kb < <(measure goaccess "$log" --log-format=COMBINED --no-global-config -o "$work/goaccess.json")
read -r s_s s_kb < <(measure "$bin" --quiet infra scan "$log" --format combined --out "$work/scan" --no-store)
read -r s1_s s1_kb < <(RAYON_NUM_THREADS=1 measure "$bin" --quiet infra scan "$log" --format combined --out "$work/scan1" --no-store)

rate() { awk -v n="$n" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
g_rate=$(rate "$g_s"); s_rate=$(rate "$s_s"); s1_rate=$(rate "$s1_s")
printf '%-44s %10s %12s %10s\n' tool seconds lines/s "peak MB"
printf '%-44s %10s %12s %10.1f\n' "GoAccess $(goaccess -V | head -n1 | awk '{print $3}') (parse + aggregate)" "$g_s" "$g_rate" "$(echo "$g_kb/1024" | bc -l)"
printf '%-44s %10s %12s %10.1f\n' "scrutineer infra scan ($(nproc) threads, detection on)" "$s_s" "$s_rate" "$(echo "$s_kb/1024" | bc -l)"
printf '%-44s %10s %12s %10.1f\n' "scrutineer infra scan (1 thread, detection on)" "$s1_s" "$s1_rate" "$(echo "$s1_kb/1024" | bc -l)"
awk -v a="$s_rate" -v b="$g_rate" 'BEGIN { printf "ratio scrutineer/goaccess: %.2fx\n", a / b }'
attacks=$(grep -c ',attack,' "$work/scan/events.csv" || true)
echo "scrutineer verdicts: $attacks attack rows of $n"

# Detection peer: nginx + libmodsecurity 3 + OWASP CRS, one worker, fed requests from
# the same log with wrk. Reported as requests per second (it inspects live requests;
# it cannot read a log file).
modsec_peer() {
  need_pkg nginx-light libnginx-mod-http-modsecurity modsecurity-crs wrk || { echo "modsecurity peer: packages did not install"; return 0; }
  local conf="$work/nginx"; mkdir -p "$conf/logs"
  cat > "$conf/modsec.conf" <<CONF
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecResponseBodyAccess Off
SecAuditEngine Off
SecDebugLogLevel 0
Include /etc/modsecurity/crs/crs-setup.conf
Include /usr/share/modsecurity-crs/rules/*.conf
CONF
  cat > "$conf/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
worker_processes 1;
error_log $conf/logs/error.log;
pid $conf/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  modsecurity on;
  modsecurity_rules_file $conf/modsec.conf;
  server { listen 127.0.0.1:18080; location / { return 200 "ok"; } }
}
CONF
  nginx -p "$conf" -c "$conf/nginx.conf" -t >/dev/null 2>&1 || { echo "modsecurity peer: nginx config did not load ($(nginx -p "$conf" -c "$conf/nginx.conf" -t 2>&1 | tail -n1))"; return 0; }
  nginx -p "$conf" -c "$conf/nginx.conf" -s stop >/dev/null 2>&1 || true
  nginx -p "$conf" -c "$conf/nginx.conf"
  trap "nginx -p '$conf' -c '$conf/nginx.conf' -s stop >/dev/null 2>&1 || true" EXIT
  # Request targets from the log (URL-safe ones), cycled by a wrk script.
  { awk -F'"' '{ split($2, r, " "); if (r[2] ~ /^\//) print r[2] }' "$log" | head -n 20000 | grep -v '[[:space:]]' > "$conf/paths.txt"; } || true
  cat > "$conf/paths.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = (i % #paths) + 1
  return wrk.format("GET", paths[i])
end
LUA
  local out
  out=$(PATHS="$conf/paths.txt" wrk -t1 -c8 -d10s -s "$conf/paths.lua" http://127.0.0.1:18080/ 2>&1 || true)
  local rss
  rss=$(ps -o rss= -C nginx | sort -n | tail -n1)
  nginx -p "$conf" -c "$conf/nginx.conf" -s stop || true
  local rps
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  printf '%-44s %10s %12s %10.1f\n' "nginx + ModSecurity + CRS (1 worker)" "10" "${rps:-n/a}" "$(echo "${rss:-0}/1024" | bc -l)"
  [ -n "$rps" ] && awk -v a="$s_rate" -v b="$rps" 'BEGIN { printf "ratio scrutineer/modsecurity: %.1fx (log lines vs live requests per second)\n", a / b }'
}
modsec_peer

if awk -v a="$s_rate" -v b="$g_rate" 'BEGIN { exit !(a > b) }'; then
  echo "OK: scrutineer with detection parses faster than GoAccess parses alone"
else
  echo "FAIL: scrutineer ($s_rate lines/s) is not faster than GoAccess ($g_rate lines/s)"
  exit 1
fi
