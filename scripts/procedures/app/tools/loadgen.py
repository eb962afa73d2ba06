#!/usr/bin/env python3
"""A bounded HTTP load generator for 127.0.0.1, and the summary of what it saw.

    loadgen.py run --url URL --samples FILE [--concurrency 4] [--max-seconds 300] [--stop-file F]
        Sends GET requests from N threads, one connection each, until the stop file appears (or
        max-seconds pass); one line per request in FILE: start time, latency (ms), status.
        Only loopback addresses are accepted: this is a rehearsal tool, not a load-testing service.
    loadgen.py mark FILE NAME
        Appends `NAME <time>` to FILE (the moments a procedure switches, reloads, …).
    loadgen.py summary --samples FILE --marks FILE [--metrics FILE]
        Requests, failures, p50/p99 latency before the first mark, between the first and the
        last, and after, and the longest time in which no request succeeded; with --metrics, the
        same as exec-doc metrics (one JSON object a line).
"""

import argparse
import http.client
import json
import pathlib
import sys
import threading
import time
import urllib.parse


def run(args) -> int:
    url = urllib.parse.urlsplit(args.url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"loadgen: {url.hostname} is not a loopback address; only local services are loaded")
    deadline = time.monotonic() + args.max_seconds
    stop = pathlib.Path(args.stop_file) if args.stop_file else None
    lock = threading.Lock()
    out = open(args.samples, "a", buffering=1)

    def client():
        while time.monotonic() < deadline and not (stop and stop.exists()):
            started = time.time()
            t0 = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
                connection.request("GET", url.path or "/", headers={"Connection": "close"})
                response = connection.getresponse()
                response.read()
                status = response.status
                connection.close()
            except Exception as error:  # refused, reset, timed out: a failed request
                status = type(error).__name__
            latency = (time.perf_counter() - t0) * 1000
            with lock:
                out.write(f"{started:.6f} {latency:.3f} {status}\n")

    threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.close()
    return 0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)


def summary(args) -> int:
    samples = []
    for line in pathlib.Path(args.samples).read_text().splitlines():
        started, latency, status = line.split()
        samples.append((float(started), float(latency), status == "200"))
    marks = [line.split() for line in pathlib.Path(args.marks).read_text().splitlines() if line.strip()]
    if not marks:
        sys.exit("loadgen: no marks: nothing to compare before and after")
    first, last = float(marks[0][1]), float(marks[-1][1])
    windows = {
        "before": [s for s in samples if s[0] < first],
        "during": [s for s in samples if first <= s[0] <= last],
        "after": [s for s in samples if s[0] > last],
    }
    result = {"requests": len(samples), "failed": sum(1 for s in samples if not s[2]), "marks": [m[0] for m in marks]}
    for name, window in windows.items():
        latencies = [s[1] for s in window if s[2]]
        result[name] = {
            "requests": len(window),
            "failed": sum(1 for s in window if not s[2]),
            "p50Ms": percentile(latencies, 50),
            "p99Ms": percentile(latencies, 99),
        }
    # Downtime as a client sees it: the longest time in which no request completed successfully.
    done = sorted(s[0] + s[1] / 1000 for s in samples if s[2])
    result["longestGapMs"] = round(max((b - a for a, b in zip(done, done[1:])), default=0) * 1000, 1)
    before, during = result["before"]["p99Ms"], result["during"]["p99Ms"]
    result["p99ChangePercent"] = round((during - before) / before * 100, 1) if before and during else None
    print(json.dumps(result, indent=2, sort_keys=True))
    if args.metrics:
        with open(args.metrics, "a") as metrics:
            def metric(name, value, unit):
                if value is not None:
                    metrics.write(json.dumps({"name": name, "value": value, "unit": unit}) + "\n")
            metric("requests", result["requests"], "requests")
            metric("failedRequests", result["failed"], "requests")
            metric("failedRequestsDuringSwitch", result["during"]["failed"], "requests")
            metric("p50BeforeMs", result["before"]["p50Ms"], "ms")
            metric("p99BeforeMs", result["before"]["p99Ms"], "ms")
            metric("p99DuringSwitchMs", result["during"]["p99Ms"], "ms")
            metric("p99AfterMs", result["after"]["p99Ms"], "ms")
            metric("p99ChangePercent", result["p99ChangePercent"], "%")
            metric("longestGapMs", result["longestGapMs"], "ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--url", required=True)
    r.add_argument("--samples", required=True)
    r.add_argument("--concurrency", type=int, default=4)
    r.add_argument("--max-seconds", type=float, default=300)
    r.add_argument("--stop-file")
    m = sub.add_parser("mark")
    m.add_argument("file")
    m.add_argument("name")
    s = sub.add_parser("summary")
    s.add_argument("--samples", required=True)
    s.add_argument("--marks", required=True)
    s.add_argument("--metrics")
    args = parser.parse_args()
    if args.command == "mark":
        with open(args.file, "a") as marks:
            marks.write(f"{args.name} {time.time():.6f}\n")
        return 0
    return run(args) if args.command == "run" else summary(args)


if __name__ == "__main__":
    sys.exit(main())
