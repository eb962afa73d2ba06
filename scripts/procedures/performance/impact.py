#!/usr/bin/env python3
"""The impact of a procedure on the load that ran beside it.

Reads the transaction logs load.sh left (pgbench -l: one line per transaction with its latency
and completion time) and the steps run so far ($EXEC_DOC_TIMELINE, written by exec-doc), splits
the transactions by the step during which they completed, and reports per step: throughput,
p50/p99/longest latency, failed transactions, and the longest lock wait exec-doc's sampler saw on
the server. It compares the procedure's window (from the first to the last of --steps) with the
--baseline step's (the same load, nothing else running), writes the figures to $EXEC_DOC_METRICS
(and second-by-second throughput and p99 as series, for the site's chart), and fails when a limit
is passed.

  impact.py --dir DIR --timeline "$EXEC_DOC_TIMELINE" --baseline STEP --steps A,B,C
            [--max-loss-pct 10] [--max-lock-wait-ms 100]

Exit codes: 0 within the limits, 1 a limit passed, 2 bad usage or missing input.
"""
import argparse
import glob
import json
import math
import os
import re
import sys
from datetime import datetime


def fail_usage(message):
    print(f"impact.py: {message}", file=sys.stderr)
    sys.exit(2)


def epoch_ms(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def read_transactions(folder):
    """(completed at ms, latency ms or None when it failed) for every logged transaction, and the
    time each round of load ran: from its first transaction's start to its last one's end."""
    done = []
    rounds = {}
    for path in sorted(glob.glob(os.path.join(folder, "round-*"))):
        if path.endswith((".out", ".status")):
            continue
        name = os.path.basename(path).split(".")[0]
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) < 6:
                    continue
                at = int(fields[4]) * 1000 + int(fields[5]) / 1000
                latency = None if not fields[2].isdigit() else int(fields[2]) / 1000
                done.append((at, latency))
                start = at - (latency or 0)
                first, last = rounds.get(name, (start, at))
                rounds[name] = (min(first, start), max(last, at))
    done.sort()
    return done, sorted(rounds.values())


def read_errors(folder):
    """Failed transactions and aborted clients, from each round's pgbench summary."""
    failed = 0
    aborted = 0
    for path in glob.glob(os.path.join(folder, "round-*.out")):
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        match = re.search(r"number of failed transactions: (\d+)", text)
        failed += int(match.group(1)) if match else 0
        aborted += len(re.findall(r"^client \d+ .*aborted", text, re.M))
    return failed, aborted


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def camel(step_id):
    parts = re.split(r"[^A-Za-z0-9]+", step_id)
    return parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def window_figures(transactions, start, end, rounds=None):
    inside = [t for t in transactions if start <= t[0] < end]
    latencies = [lat for _, lat in inside if lat is not None]
    # Throughput is over the time the load ran within the window: the moments between two rounds
    # (a new pgbench connecting its clients) are not the procedure's doing. Without rounds: all of it.
    running = sum(max(0, min(end, b) - max(start, a)) for a, b in rounds) if rounds is not None else end - start
    return {
        "durationMs": round(end - start),
        "runningMs": round(running),
        "transactions": len(inside),
        # Throughput counts what succeeded; a failed transaction is counted apart.
        "tps": len(latencies) / (running / 1000) if running > 0 else None,
        "p50Ms": percentile(latencies, 0.5),
        "p99Ms": percentile(latencies, 0.99),
        "maxMs": max(latencies) if latencies else None,
        "failed": len(inside) - len(latencies),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="load.sh's folder")
    parser.add_argument("--baseline", required=True, help="the step that ran the load alone")
    parser.add_argument("--steps", required=True, help="the procedure's steps, comma-separated, in order")
    parser.add_argument("--max-loss-pct", type=float, default=10.0)
    parser.add_argument("--max-lock-wait-ms", type=float, default=100.0)
    parser.add_argument("--timeline", default=os.environ.get("EXEC_DOC_TIMELINE"), help="$EXEC_DOC_TIMELINE")
    args = parser.parse_args()

    timeline_file = args.timeline
    metrics_file = os.environ.get("EXEC_DOC_METRICS")
    if not timeline_file or not os.path.exists(timeline_file):
        fail_usage("--timeline: no such file (give \"$EXEC_DOC_TIMELINE\" from an exec-doc block)")
    if not os.path.isdir(args.dir):
        fail_usage(f"{args.dir}: no such folder (did load.sh start?)")
    with open(timeline_file, encoding="utf-8") as handle:
        timeline = json.load(handle)
    ran = {s["stepId"]: s for s in timeline["steps"] if s["phase"] == "forward" and s["status"] == "passed"}
    wanted = [s for s in args.steps.split(",") if s]
    for step_id in [args.baseline, *wanted]:
        if step_id not in ran:
            fail_usage(f"step {step_id} has not run (steps so far: {', '.join(ran) or 'none'})")

    def bounds(step_id):
        step = ran[step_id]
        start = epoch_ms(step["startedAt"])
        return start, start + step["durationMs"]

    transactions, rounds = read_transactions(args.dir)
    if not transactions:
        fail_usage(f"no transaction was logged in {args.dir}: the load did not run")
    failed_rounds, aborted = read_errors(args.dir)

    baseline = window_figures(transactions, *bounds(args.baseline), rounds)
    start, _ = bounds(wanted[0])
    _, end = bounds(wanted[-1])
    procedure = window_figures(transactions, start, end, rounds)
    if not baseline["tps"]:
        fail_usage(f"no transaction completed during {args.baseline}: the load did not run beside it")
    loss = max(0.0, 100 * (1 - (procedure["tps"] or 0) / baseline["tps"]))
    # A rate counted from n transactions is known to about 1/sqrt(n) of itself (Poisson); the
    # ratio of two such rates to the root of the sum of squares. The limit is passed only when the
    # loss is above it beyond that uncertainty (95 %): a short window cannot show a small loss.
    n_base = max(1, baseline["transactions"])
    n_proc = max(1, procedure["transactions"])
    margin = 100 * 1.96 * math.sqrt(1 / n_base + 1 / n_proc) * (procedure["tps"] or 0) / baseline["tps"]
    loss_low = max(0.0, loss - margin)

    per_step = {step_id: window_figures(transactions, *bounds(step_id), rounds) for step_id in wanted}
    rows = [("baseline: " + args.baseline, baseline, None)]
    lock_waits = []
    for step_id in wanted:
        waited = (ran[step_id].get("resources") or {}).get("longestLockWaitMs")
        if waited is not None:
            lock_waits.append(waited)
        rows.append((step_id, per_step[step_id], waited))
    rows.append(("whole procedure", procedure, max(lock_waits) if lock_waits else None))
    longest_wait = max(lock_waits) if lock_waits else 0
    # pgbench counts a failed transaction both in its log and in its summary: the larger is the count.
    failed = max(failed_rounds, sum(1 for _, lat in transactions if lat is None))

    def fmt(value, digits=1):
        return "—" if value is None else f"{value:.{digits}f}"

    print(f"{'phase':<28} {'ms':>7} {'txns':>6} {'tps':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'failed':>6} {'lock wait ms':>12}")
    for name, f, waited in rows:
        # Throughput over less than a second is not a rate worth showing.
        tps = fmt(f["tps"]) if f["runningMs"] >= 1000 or name == "whole procedure" else "—"
        print(
            f"{name:<28} {f['durationMs']:>7} {f['transactions']:>6} {tps:>8} {fmt(f['p50Ms'], 2):>7} "
            f"{fmt(f['p99Ms'], 2):>7} {fmt(f['maxMs'], 2):>7} {f['failed']:>6} {fmt(waited, 0):>12}"
        )
    print(
        f"throughput loss over the procedure: {loss:.1f} % ± {margin:.1f} % (limit {args.max_loss_pct:g} %); "
        f"failed transactions: {failed}, aborted clients: {aborted}; "
        f"longest lock wait seen: {longest_wait} ms (limit {args.max_lock_wait_ms:g} ms)"
    )

    metrics = [
        ("baselineTps", baseline["tps"], "tps"),
        ("procedureTps", procedure["tps"] or 0, "tps"),
        ("throughputLossPct", loss, "%"),
        ("throughputLossMarginPct", margin, "%"),
        ("baselineP99Ms", baseline["p99Ms"] or 0, "ms"),
        ("procedureP99Ms", procedure["p99Ms"] or 0, "ms"),
        ("procedureMaxLatencyMs", procedure["maxMs"] or 0, "ms"),
        ("failedTransactions", failed, "transactions"),
        ("abortedClients", aborted, "clients"),
        ("longestLockWaitMs", longest_wait, "ms"),
    ]
    for step_id, f in per_step.items():
        if f["p99Ms"] is not None:
            metrics.append((camel(step_id) + "P99Ms", f["p99Ms"], "ms"))
        if f["runningMs"] >= 1000:
            metrics.append((camel(step_id) + "Tps", f["tps"], "tps"))
    lines = [json.dumps({"name": n, "value": round(v, 2), "unit": u}) for n, v, u in metrics]
    # Second by second over the whole load, for the chart beside the step durations: one pass.
    first = int(transactions[0][0] // 1000)
    last = int(transactions[-1][0] // 1000)
    counts = [0] * (last - first + 1)
    latencies = [[] for _ in counts]
    for at, latency in transactions:
        second = int(at // 1000) - first
        counts[second] += 1
        if latency is not None:
            latencies[second].append(latency)
    for offset, count in enumerate(counts):
        at = (first + offset) * 1000
        lines.append(json.dumps({"name": "loadTps", "value": count, "unit": "tps", "at": at}))
        if latencies[offset]:
            p99 = percentile(latencies[offset], 0.99)
            lines.append(json.dumps({"name": "loadP99Ms", "value": round(p99, 2), "unit": "ms", "at": at}))
    if metrics_file:
        with open(metrics_file, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")

    problems = []
    if loss_low > args.max_loss_pct:
        problems.append(
            f"throughput fell {loss:.1f} % ± {margin:.1f} % during the procedure (limit {args.max_loss_pct:g} %)"
        )
    if failed > 0 or aborted > 0:
        problems.append(f"{failed} client transaction(s) failed, {aborted} client(s) aborted")
    if longest_wait > args.max_lock_wait_ms:
        problems.append(f"a session waited {longest_wait} ms for a lock (limit {args.max_lock_wait_ms:g} ms)")
    for problem in problems:
        print(f"LIMIT PASSED: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
