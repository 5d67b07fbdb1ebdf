"""Load for scripts/bench-server.sh: dashboard clients hammer `/` while one prober
measures `/healthz`, each request on a new connection as a monitor would make it.

Usage: bench_server_load.py ADDR TOKEN CLIENTS SECONDS

The clients start on a cold server, so the first phase is the render of the page (one
per change of the store); the second is SECONDS of pages served from the cache. The
prober asks for /healthz every 5 ms through both and prints the latency percentiles of
each phase and of the whole run (the figure the script gates), the pages served and
their size. The dashboard clients are separate processes, so that the prober's timings
do not wait on their interpreter lock. Exits 1 if any request fails or no page came
within ten minutes.
"""

import http.client
import multiprocessing
import sys
import time


def hammer(addr, token, stop, first_page_at, pages, failures, last_size):
    host, port = addr.rsplit(":", 1)
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=600)
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
            with first_page_at.get_lock():
                if first_page_at.value == 0.0:
                    first_page_at.value = time.time()
        except OSError:
            with failures.get_lock():
                failures.value += 1


def percentile(sorted_ms, p):
    """Nearest-rank percentile."""
    if not sorted_ms:
        return float("nan")
    rank = max(1, -(-len(sorted_ms) * p // 100))
    return sorted_ms[int(rank) - 1]


def line(name, ms):
    ms = sorted(ms)
    if not ms:
        return f"{name:<34} no requests"
    return (f"{name:<34} {len(ms):>6} requests  p50 {percentile(ms, 50):7.2f}  p95 {percentile(ms, 95):7.2f}  "
            f"p99 {percentile(ms, 99):7.2f}  max {ms[-1]:8.2f}")


def main():
    addr, token, clients, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    host, port = addr.rsplit(":", 1)
    stop = multiprocessing.Event()
    first_page_at = multiprocessing.Value("d", 0.0)
    pages = multiprocessing.Value("q", 0)
    failures = multiprocessing.Value("q", 0)
    last_size = multiprocessing.Value("q", 0)
    procs = [
        multiprocessing.Process(target=hammer, args=(addr, token, stop, first_page_at, pages, failures, last_size))
        for _ in range(clients)
    ]
    started = time.time()
    for p in procs:
        p.start()
    rendering, cached = [], []
    health_failures = 0
    while True:
        now = time.time()
        first = first_page_at.value
        if first and now > first + seconds:
            break
        if not first and now > started + 600:
            break
        t0 = time.perf_counter()
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
        ms = (time.perf_counter() - t0) * 1000.0
        (cached if first_page_at.value else rendering).append(ms)
        time.sleep(0.005)
    stop.set()
    for p in procs:
        p.join()
    first = first_page_at.value
    render_s = (first - started) if first else float("nan")
    print(f"dashboard clients:                 {clients}; first page after {render_s:.1f} s (the render), "
          f"then {pages.value} pages in {seconds:.0f} s ({last_size.value / 1e6:.1f} MB each), {failures.value} failed")
    print(line("/healthz ms, during the render:", rendering))
    print(line("/healthz ms, page cached:", cached))
    print(line("/healthz ms, whole run:", rendering + cached))
    print(f"/healthz failures:                 {health_failures}")
    return 1 if failures.value or health_failures or not first else 0


if __name__ == "__main__":
    sys.exit(main())
