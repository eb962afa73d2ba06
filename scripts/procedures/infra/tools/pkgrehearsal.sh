#!/usr/bin/env bash
# pkgrehearsal.sh: the system package procedures' rehearsal, on the machine's real dpkg and apt.
#
#   pkgrehearsal.sh setup DIR PREFIX [extra PKG=VER ...]   build the packages into DIR/repo, read
#                      its index, install PREFIX and PREFIX-lib 1.0-1 (and the extras); prints
#                      PKG=, REPO=, STATE= lines for $EXEC_DOC_ENV
#   pkgrehearsal.sh remove DIR PREFIX                      purge every PREFIX package, unhold first
#
# Needs root. Only packages named PREFIX* are ever touched.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${2:?needs a folder}" prefix="${3:?needs a package prefix}"
export REPO="$dir/repo" STATE="$dir/apt"
case "${1:-}" in
  setup)
    shift 3
    "$here/build_debs.sh" "$prefix" "$REPO" >&2
    "$here/aptctl.sh" update >/dev/null
    "$here/aptctl.sh" install "$prefix=1.0-1" "$prefix-lib=1.0-1" "$@" >&2
    printf 'PKG=%s\nREPO=%s\nSTATE=%s\n' "$prefix" "$REPO" "$STATE"
    ;;
  remove)
    installed=$(dpkg-query -W -f '${Package} ${Status}\n' "$prefix" "$prefix-*" 2>/dev/null | awk '$NF != "not-installed" { print $1 }' || true)
    if [ -n "$installed" ]; then
      # shellcheck disable=SC2086
      "$here/aptctl.sh" unhold $installed >/dev/null
      # shellcheck disable=SC2086
      "$here/aptctl.sh" purge $installed >&2
    fi
    rm -rf "$REPO" "$STATE"
    echo "removed the rehearsal packages ${installed:-(none were installed)}" | tr '\n' ' '
    echo
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
