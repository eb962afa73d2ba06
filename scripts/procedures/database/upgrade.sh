#!/usr/bin/env bash
# A standalone, gated database upgrade for the server in DATABASE_URL:
#   1. `exec-doc check pre-upgrade`   — is it safe to begin? (and the baseline snapshot)
#   2. `db up`                        — apply the pending migrations of <migrations-dir>
#   3. `exec-doc check post-upgrade`  — did it work?
#   on a failure in 2 or 3: `db down` to where it started, then `exec-doc check post-rollback`.
#
# usage: upgrade.sh <migrations-dir> [--ledger <name>]
# environment: DATABASE_URL (required), CHECKS_CONFIG (default: the nearest exec-doc.checks.yaml),
#              EXEC_DOC_STATE_DIR (where the checks keep the baseline; default .exec-doc)
# exit: 0 upgraded and verified; 1 the pre-upgrade checks said no (nothing changed);
#       2 the upgrade failed and was rolled back, verified identical; 3 the rollback could not be verified
set -uo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
: "${DATABASE_URL:?set DATABASE_URL to the database to upgrade (the checks and the migrations must see the same server)}"
[ $# -ge 1 ] || { echo "usage: upgrade.sh <migrations-dir> [--ledger <name>]" >&2; exit 64; }
dir=$1
shift
config=()
[ -n "${CHECKS_CONFIG:-}" ] && config=(--config "$CHECKS_CONFIG")
exec_doc() { node "$root/bin/exec-doc.js" "$@" "${config[@]}"; }
db() { node "$root/bin/db.js" "$@" --dir "$dir"; }
say() { echo "upgrade.sh: $*" >&2; }

# Where the ledger stands now: the version to come back to.
start=$(db status --json "$@" | node -e 'let t = ""; process.stdin.on("data", (c) => (t += c)).on("end", () => { const s = JSON.parse(t); console.log(s.applied.length ? s.applied[s.applied.length - 1].version : "0"); });') || { say "cannot read the ledger"; exit 3; }

if ! exec_doc check pre-upgrade; then
  say "the pre-upgrade checks did not pass; nothing was changed"
  exit 1
fi

if db up "$@" && exec_doc check post-upgrade; then
  say "upgraded from version $start and verified"
  exit 0
fi

say "the upgrade did not complete; rolling back to version $start"
if db down --to "$start" "$@" && exec_doc check post-rollback; then
  say "rolled back to version $start; the database is identical to the baseline"
  exit 2
fi
say "the rollback could not be verified: look at the differences above before anything else"
exit 3
