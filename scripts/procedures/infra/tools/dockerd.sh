#!/usr/bin/env bash
# dockerd.sh: a private Docker daemon for rehearsals (as root), all of its state under one folder,
# no iptables rules and no bridge: containers use the host network.
#
#   dockerd.sh start DIR   start it; prints DOCKER_HOST=unix://DIR/docker.sock once it answers
#   dockerd.sh stop DIR    stop it (its containers with it) and wait until it is gone
set -euo pipefail
dir="${2:?needs a folder}"
case "${1:-}" in
  start)
    mkdir -p "$dir"
    dockerd --host "unix://$dir/docker.sock" --data-root "$dir/root" --exec-root "$dir/exec" \
      --pidfile "$dir/dockerd.pid" --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs \
      </dev/null >"$dir/dockerd.log" 2>&1 &
    for _ in $(seq 1 300); do
      if DOCKER_HOST="unix://$dir/docker.sock" /usr/bin/docker info >/dev/null 2>&1; then
        echo "DOCKER_HOST=unix://$dir/docker.sock"
        exit 0
      fi
      kill -0 $! 2>/dev/null || break
      sleep 0.1
    done
    tail -n 5 "$dir/dockerd.log" >&2
    echo "dockerd.sh: the daemon did not answer" >&2
    exit 1
    ;;
  stop)
    pid=$(cat "$dir/dockerd.pid" 2>/dev/null) || { echo "not running"; exit 0; }
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || { echo "stopped dockerd $pid"; exit 0; }; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "killed dockerd $pid"
    ;;
  *)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
