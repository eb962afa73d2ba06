#!/usr/bin/env bash
# aptctl.sh: apt-get and dpkg against one local repository only (REPO), with its own package lists
# and archive cache under STATE: the machine's sources and lists are not read or changed.
#
#   REPO=DIR STATE=DIR aptctl.sh update              read REPO's index
#   aptctl.sh install PKG=VERSION ...                install exactly these versions (downgrades
#                                                    allowed only with ALLOW_DOWNGRADES=1); never
#                                                    removes a package to make room (--no-remove)
#   aptctl.sh simulate PKG=VERSION ...               what install would do, changing nothing
#   aptctl.sh plan PKG=VERSION ...                   what apt would do if it were allowed to remove
#                                                    packages: its Inst/Remv lines (changes nothing)
#   aptctl.sh purge PKG ...                          remove packages and their files
#   aptctl.sh hold|unhold PKG ...                    apt-mark, waiting for the dpkg lock like the rest
#
# Waits up to 120 s for the dpkg lock another apt holds. Needs root for install and purge.
set -euo pipefail
: "${REPO:?set REPO to the repository folder}" "${STATE:?set STATE to a folder for apt lists and cache}"
mkdir -p "$STATE/lists/partial" "$STATE/archives/partial"
echo "deb [trusted=yes] file:$REPO ./" >"$STATE/sources.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$STATE/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$STATE/lists" -o "Dir::Cache::archives=$STATE/archives"
  -o "APT::Get::List-Cleanup=0" -o "DPkg::Lock::Timeout=120" -o "Dpkg::Use-Pty=0"
  -o "Dpkg::Options::=--force-confold"
)
export DEBIAN_FRONTEND=noninteractive
command="${1:-}"
shift || true
case "$command" in
  update) apt-get "${apt_opts[@]}" -q update ;;
  install | simulate)
    extra=(-y --no-remove --no-install-recommends)
    [ "${ALLOW_DOWNGRADES:-0}" = 1 ] && extra+=(--allow-downgrades)
    [ "$command" = simulate ] && extra+=(--simulate)
    apt-get "${apt_opts[@]}" -q "${extra[@]}" install "$@"
    ;;
  plan) apt-get "${apt_opts[@]}" -q -y --simulate --no-install-recommends install "$@" | grep -E '^(Inst|Remv) ' || true ;;
  purge) apt-get "${apt_opts[@]}" -q -y purge "$@" ;;
  hold | unhold)
    # apt-mark does not wait for the dpkg lock: try again for up to 120 s while another apt holds it.
    for _ in $(seq 1 240); do
      if out=$(apt-mark "$command" "$@" 2>&1); then echo "$out"; exit 0; fi
      grep -q 'lock' <<<"$out" || { echo "$out" >&2; exit 1; }
      sleep 0.5
    done
    echo "$out" >&2
    exit 1
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
