#!/usr/bin/env bash
# proxyctl.sh: HAProxy in front of a blue and a green backend, so that traffic moves from one
# container to the other without a failed request: new connections go to the ready server, the
# drained one finishes what it serves.
#
#   proxyctl.sh start DIR FRONT BLUE GREEN   listen on 127.0.0.1:FRONT; blue (127.0.0.1:BLUE) ready,
#                                            green (127.0.0.1:GREEN) in maintenance
#   proxyctl.sh route DIR blue|green         make that server ready and drain the other; waits
#                                            (up to 30 s) until the drained one has no session left
#   proxyctl.sh show DIR                     each server's state and current sessions
#   proxyctl.sh stop DIR                     stop HAProxy
set -euo pipefail
dir="${2:?needs the proxy folder}"
# A unix socket path holds at most 107 bytes: the admin socket lives at a short path named after DIR.
sock="/tmp/haproxy-$(printf '%s' "$dir" | sha256sum | cut -c1-16).sock"
admin() { python3 - "$sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.decode(), end="")
PY
}
sessions() { admin "show stat" | awk -F, -v name="$1" '$1 == "app" && $2 == name { print $5 }'; }
status() { admin "show stat" | awk -F, -v name="$1" '$1 == "app" && $2 == name { print $18 }'; }
case "${1:-}" in
  start)
    front="${3:?}" blue="${4:?}" green="${5:?}"
    mkdir -p "$dir"
    cat >"$dir/haproxy.cfg" <<CFG
global
    stats socket $sock mode 600 level admin
    pidfile $dir/haproxy.pid
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    option http-server-close
    retries 3
    option redispatch
frontend front
    bind 127.0.0.1:$front
    default_backend app
backend app
    server blue 127.0.0.1:$blue check inter 500ms
    server green 127.0.0.1:$green check inter 500ms disabled
CFG
    haproxy -c -q -f "$dir/haproxy.cfg"
    haproxy -D -f "$dir/haproxy.cfg"
    for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
    echo "haproxy on 127.0.0.1:$front → blue 127.0.0.1:$blue (green 127.0.0.1:$green waiting)"
    ;;
  route)
    to="${3:?route needs blue or green}"
    case "$to" in blue) from=green ;; green) from=blue ;; *) echo "proxyctl: route blue or green" >&2; exit 64 ;; esac
    admin "set server app/$to state ready" >/dev/null
    # Only a server whose health check passes takes traffic: wait for it before draining the other.
    for _ in $(seq 1 300); do
      case "$(status "$to")" in UP*) break ;; esac
      sleep 0.1
    done
    case "$(status "$to")" in UP*) ;; *) echo "proxyctl: $to is $(status "$to"), not UP, after 30 s; traffic stays on $from" >&2; exit 1 ;; esac
    admin "set server app/$from state drain" >/dev/null
    for _ in $(seq 1 300); do
      [ "$(sessions "$from")" = 0 ] && { echo "traffic on $to; $from drained"; exit 0; }
      sleep 0.1
    done
    echo "proxyctl: $from still has sessions after 30 s" >&2
    exit 1
    ;;
  show) admin "show servers state app" ;;
  stop)
    if [ -f "$dir/haproxy.pid" ] && kill "$(cat "$dir/haproxy.pid")" 2>/dev/null; then echo "haproxy stopped"; else echo "haproxy was not running"; fi
    rm -f "$sock"
    ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
