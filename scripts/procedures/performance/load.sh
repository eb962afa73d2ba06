#!/usr/bin/env bash
# Client load on a PostgreSQL server with pgbench, until told to stop; every transaction's latency
# and completion time is logged (pgbench -l), for impact.py to split by the procedure's steps.
#
#   load.sh start DIR --clients N --rate TPS --rows N   (TPS 0: as fast as the server goes)
#   load.sh stop DIR                                    (waits for the last round to finish)
#
# pgbench writes its transaction log only when it exits, so the load runs in rounds of one
# second, each a pgbench process of its own; a round's log is complete when it ends. The server
# is $DATABASE_URL. Exit codes: 0 done, 2 bad usage, 3 pgbench missing or the server unreachable.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
usage() { echo "usage: load.sh start DIR --clients N --rate TPS --rows N | load.sh stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
command="$1" dir="$2"
shift 2
case "$command" in
  stop)
    touch "$dir/stop"
    for _ in $(seq 1 300); do
      [ -e "$dir/stopped" ] && exit 0
      sleep 0.1
    done
    echo "load.sh: the load in $dir did not stop within 30 s" >&2
    exit 1
    ;;
  start) ;;
  *) usage ;;
esac
clients=4 rate=0 rows=
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --rows) rows="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$clients" =~ ^[1-9][0-9]*$ && "$rate" =~ ^[0-9]+$ && "$rows" =~ ^[1-9][0-9]*$ ]] || usage
command -v pgbench >/dev/null || { echo "load.sh: pgbench is not installed (Debian: postgresql-client)" >&2; exit 3; }
: "${DATABASE_URL:?load.sh: DATABASE_URL names the server to load}"
mkdir -p "$dir"
rm -f "$dir/stop" "$dir/stopped"
finish() { touch "$dir/stopped"; }
trap finish EXIT
trap 'exit 0' TERM INT
rate_args=()
[ "$rate" -gt 0 ] && rate_args=(--rate "$rate")
round=0
# Rounds until `stop`; a round whose clients failed is counted by impact.py from its status file.
while [ ! -e "$dir/stop" ]; do
  round=$((round + 1))
  status=0
  pgbench --no-vacuum --client "$clients" --jobs "$clients" --time 1 "${rate_args[@]}" \
    --file "$here/transaction.sql" --define "rows=$rows" \
    --log --log-prefix "$dir/round-$round" "$DATABASE_URL" > "$dir/round-$round.out" 2>&1 || status=$?
  echo "$status" > "$dir/round-$round.status"
  if [ "$round" -eq 1 ] && [ "$status" -ne 0 ]; then
    echo "load.sh: pgbench could not run its first round:" >&2
    cat "$dir/round-1.out" >&2
    exit 3
  fi
done
