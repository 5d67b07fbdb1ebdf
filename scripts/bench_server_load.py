"""Load for scripts/bench-server.sh: dashboard clients hammer `/` while one prober
measures `/healthz`, each request on a new connection as a monitor would make it.

Usage: bench_server_load.py ADDR TOKEN CLIENTS SECONDS

The dashboard clients are separate processes (so that the prober's timings do not wait
on their interpreter lock); the prober asks for /healthz every 5 ms and prints the
latency percentiles, the number of dashboard pages served and their size. Exits 1 if any
request fails.
"""

import http.client
import multiprocessing
import sys
import time


def hammer(addr, token, stop_at, pages, failures, last_size):
    host, port = addr.rsplit(":", 1)
    while time.time() < stop_at:
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            conn.request("GET", "/", headers={"Authorization": "Bearer " + token})
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status != 200 or b"signed in as" not in body:
                with failures.get_lock():
                    failures.value += 1
                continue
            with pages.get_lock():
                pages.value += 1
                last_size.value = len(body)
        except OSError:
            with failures.get_lock():
                failures.value += 1


def percentile(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = max(0, min(len(sorted_ms) - 1, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def main():
    addr, token, clients, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    host, port = addr.rsplit(":", 1)
    pages = multiprocessing.Value("q", 0)
    failures = multiprocessing.Value("q", 0)
    last_size = multiprocessing.Value("q", 0)
    stop_at = time.time() + seconds
    procs = [
        multiprocessing.Process(target=hammer, args=(addr, token, stop_at, pages, failures, last_size))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    # Let the clients get going (and the first render start) before measuring.
    time.sleep(0.5)
    latencies = []
    health_failures = 0
    while time.time() < stop_at:
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status != 200 or body != b"ok":
                health_failures += 1
        except OSError:
            health_failures += 1
        latencies.append((time.perf_counter() - started) * 1000.0)
        time.sleep(0.005)
    for p in procs:
        p.join()
    latencies.sort()
    print(f"dashboard clients:     {clients} for {seconds:.0f} s, {pages.value} pages served "
          f"({last_size.value / 1e6:.1f} MB each), {failures.value} failed")
    print(f"/healthz requests:     {len(latencies)}, {health_failures} failed")
    print(f"/healthz latency (ms): p50 {percentile(latencies, 50):.2f}  p95 {percentile(latencies, 95):.2f}  "
          f"p99 {percentile(latencies, 99):.2f}  max {latencies[-1] if latencies else float('nan'):.2f}")
    return 1 if failures.value or health_failures or not latencies else 0


if __name__ == "__main__":
    sys.exit(main())
