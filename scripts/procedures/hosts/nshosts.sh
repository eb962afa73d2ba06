#!/usr/bin/env bash
# nshosts.sh: real hosts for rehearsing a rolling upgrade on one machine (as root). Each host is a
# network namespace with its own address, its own sshd (Debian's openssh-server) reached with a key
# made for the purpose, its own /srv/exec-doc-host (a private mount of its folder) and a small web
# service on its own 127.0.0.1:8080 serving /srv/exec-doc-host/current/version.txt (release 1.0).
#
#   nshosts.sh up <dir> <count>    create <count> hosts; writes <dir>/inventory.ini (group `web`)
#   nshosts.sh stale <dir> <i>     a drill: host i's web service stops following releases (it goes on
#                                  serving a copy of the current one, as a service that failed to reload)
#   nshosts.sh down <dir>          stop and remove every host made in <dir>, whatever state it is in
#
# Only the namespaces' own addresses (10.213.<n>.0/24) and loopback are ever reached.
set -euo pipefail
action="${1:-}" dir="${2:-}"
[ -n "$action" ] && [ -n "$dir" ] || { echo "usage: nshosts.sh up <dir> <count> | down <dir>" >&2; exit 64; }
[ "$(id -u)" = 0 ] || { echo "nshosts.sh needs root (network namespaces, sshd)" >&2; exit 3; }
dir=$(realpath -m "$dir")
# A short tag from the folder: namespace and interface names stay unique and under 15 characters.
tag=$(printf '%s' "$dir" | sha256sum | cut -c1-5)
mount_point=/srv/exec-doc-host

down() {
  for h in "$dir"/h*; do
    [ -d "$h" ] || continue
    for pid in "$h"/*.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true; done
  done
  # Whatever still runs inside a host (sshd, its sessions, web services) goes with it.
  for ns in $(ip netns list | awk '{print $1}' | grep "^xd$tag-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  for link in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^xv$tag" || true); do ip link del "$link" 2>/dev/null || true; done
  rm -rf "$dir"
}

case "$action" in
  up)
    count="${3:?up needs a number of hosts}"
    [ ! -e "$dir" ] || { echo "$dir exists: hosts are made in a new folder" >&2; exit 1; }
    for tool in sshd ansible-playbook python3 curl; do
      command -v "$tool" > /dev/null || [ -x "/usr/sbin/$tool" ] || { echo "nshosts.sh needs $tool (apt-get install openssh-server ansible-core curl)" >&2; exit 3; }
    done
    trap 'down' ERR
    mkdir -p "$dir" "$mount_point" /run/sshd
    chmod 700 "$dir"
    ssh-keygen -q -t ed25519 -N '' -C exec-doc-hosts -f "$dir/id_ed25519"
    # A /24 of 10.213.0.0/16 that no interface uses yet; two `up`s at once take turns choosing.
    exec 9> /tmp/exec-doc-nshosts.lock
    flock 9
    net=""
    for n in $(seq 1 250); do
      ip -o addr show | grep -q " 10\.213\.$n\." || { net=$n; break; }
    done
    [ -n "$net" ] || { echo "no free 10.213.<n>.0/24 left" >&2; exit 1; }
    {
      echo "[web]"
      for i in $(seq 1 "$count"); do echo "web-$i ansible_host=10.213.$net.$((4 * i + 2))"; done
      echo
      echo "[web:vars]"
      echo "ansible_user=root"
      echo "ansible_ssh_private_key_file=$dir/id_ed25519"
      echo "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'"
      echo "ansible_python_interpreter=/usr/bin/python3"
      echo "ansible_pipelining=true"
    } > "$dir/inventory.ini"
    for i in $(seq 1 "$count"); do
      h="$dir/h$i" ns="xd$tag-$i" outer="xv$tag$i" inner="xi$tag$i"
      mkdir -p "$h/root/releases/1.0"
      echo 1.0 > "$h/root/releases/1.0/version.txt"
      ln -s releases/1.0 "$h/root/current"
      cp "$dir/id_ed25519.pub" "$h/authorized_keys"
      ssh-keygen -q -t ed25519 -N '' -f "$h/host_key"
      ip netns add "$ns"
      ip link add "$outer" type veth peer name "$inner"
      ip link set "$inner" netns "$ns"
      ip addr add "10.213.$net.$((4 * i + 1))/30" dev "$outer"
      ip link set "$outer" up
      ip netns exec "$ns" ip addr add "10.213.$net.$((4 * i + 2))/30" dev "$inner"
      ip netns exec "$ns" ip link set "$inner" up
      ip netns exec "$ns" ip link set lo up
      cat > "$h/sshd_config" <<CONF
ListenAddress 10.213.$net.$((4 * i + 2))
HostKey $h/host_key
AuthorizedKeysFile $h/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $h/sshd.pid
Subsystem sftp internal-sftp
CONF
      # The host's own /srv/exec-doc-host: a mount namespace in which its folder is mounted there.
      ip netns exec "$ns" unshare --mount --propagation private bash -c "
        mount --bind '$h/root' '$mount_point'
        setsid python3 -m http.server 8080 --bind 127.0.0.1 --directory '$mount_point' > '$h/web.log' 2>&1 < /dev/null &
        echo \$! > '$h/web.pid'
        /usr/sbin/sshd -f '$h/sshd_config' -E '$h/sshd.log'
      "
    done
    flock -u 9
    # Every host answers over SSH before the hosts count as up.
    for i in $(seq 1 "$count"); do
      for _ in $(seq 1 50); do
        ssh -q -i "$dir/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=2 \
          "root@10.213.$net.$((4 * i + 2))" "curl -fsS http://127.0.0.1:8080/current/version.txt" > /dev/null 2>&1 && break
        sleep 0.2
      done
    done
    echo "$count host(s) up: web-1..web-$count on 10.213.$net.0/24; inventory $dir/inventory.ini"
    ;;
  stale)
    i="${3:?stale needs a host number}" h="$dir/h${3:-}"
    [ -f "$h/web.pid" ] || { echo "no host $i in $dir" >&2; exit 1; }
    mkdir -p "$h/stale/current"
    cp "$h/root/current/version.txt" "$h/stale/current/version.txt"
    kill "$(cat "$h/web.pid")"
    for _ in $(seq 1 50); do ip netns exec "xd$tag-$i" python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 0.2)' 2> /dev/null || break; sleep 0.1; done
    ip netns exec "xd$tag-$i" setsid python3 -m http.server 8080 --bind 127.0.0.1 --directory "$h/stale" > "$h/web.log" 2>&1 < /dev/null &
    echo $! > "$h/web.pid"
    for _ in $(seq 1 50); do ip netns exec "xd$tag-$i" curl -fsS http://127.0.0.1:8080/current/version.txt > /dev/null 2>&1 && break; sleep 0.1; done
    echo "web-$i now serves a stale copy of release $(cat "$h/stale/current/version.txt")"
    ;;
  down) down ;;
  *) echo "usage: nshosts.sh up <dir> <count> | stale <dir> <i> | down <dir>" >&2; exit 64 ;;
esac
