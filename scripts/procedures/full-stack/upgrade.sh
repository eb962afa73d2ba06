#!/usr/bin/env bash
# The full-stack upgrade for operators and agents: database, application, configuration and
# container, each checked before the next begins (the procedure is the rollback guide's
# "Full-stack upgrade"). On any failure every layer already changed is rolled back in reverse and
# the starting point is verified: the application's release and configuration, the image behind
# the proxy, and the database compared with its snapshot.
#
# usage: upgrade.sh [--drill] [exec-doc run options...]     upgrade (or rehearse the whole rollback)
#        upgrade.sh rollback <run-id>                       undo a run that succeeded
#   --drill   fail on purpose before the final check, so that all four layers are rolled back
#
# Progress goes to stderr as it happens ("[4/11] fs-release ✔ 687 ms"); the last lines say what
# became of each layer and how long the rollback took. The events are kept in the run's folder.
# exit: 0 upgraded and verified (or rolled back on request); 1 a layer failed and everything was
#       rolled back and verified; 2 the rollback did not complete (what is left is listed);
#       3 a requirement is missing (nothing ran); 64 usage; 77 refused by the access policy
set -uo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
exec_doc() { node "$root/bin/exec-doc.js" "$@"; }
say() { echo "upgrade.sh: $*" >&2; }

if [ "${1:-}" = rollback ]; then
  [ $# -eq 2 ] || { say "usage: upgrade.sh rollback <run-id>"; exit 64; }
  exec_doc rollback "$2"
  exit $?
fi
case "${1:-}" in -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
args=()
if [ "${1:-}" = --drill ]; then
  args+=(--fail-before fs-after)
  shift
fi

# The event stream, followed as it comes: progress for a person, the outcome per layer at the end.
exec_doc run rollback/full-stack-upgrade --json "${args[@]}" "$@" | node -e '
const readline = require("node:readline");
const LAYERS = [["fs-db", "database"], ["fs-release", "application"], ["fs-config", "configuration"], ["fs-container", "container"]];
const forward = new Map(), undone = new Set();
let total = 0, done = 0, rollbackMs = null, rollbackStart = null, end = null;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let e;
  try { e = JSON.parse(line); } catch { process.stderr.write(line + "\n"); return; }
  if (e.type === "progress") { total = e.total ?? total; done = e.done ?? done; }
  if (e.type === "step.end") {
    const mark = e.status === "passed" ? "\u2714" : e.status === "skipped" ? "-" : "\u2716";
    process.stderr.write(`[${done + 1}/${total}] ${e.phase === "forward" ? "" : e.phase + " "}${e.stepId} ${mark} ${e.durationMs} ms${e.reason ? " (" + e.reason + ")" : ""}\n`);
    if (e.phase === "forward") forward.set(e.stepId, e.status);
    if (e.phase === "rollback" && e.status === "passed") undone.add(e.stepId);
  }
  if (e.type === "rollback.start") { rollbackStart = Date.parse(e.time); process.stderr.write("rolling back: " + (e.steps ?? []).join(", ") + "\n"); }
  if (e.type === "rollback.end" && rollbackStart !== null) rollbackMs = Date.parse(e.time) - rollbackStart;
  if (e.type === "run.end") end = e;
}).on("close", () => {
  if (!end) return;
  const back = { "fs-db": "fs-db-down", "fs-release": "fs-release-back", "fs-config": "fs-config-back", "fs-container": "fs-container-back" };
  for (const [id, layer] of LAYERS) {
    const status = forward.get(id);
    const state = status === undefined ? "untouched" : undone.has(back[id]) ? "rolled back" : status === "passed" ? "upgraded" : "NOT rolled back";
    process.stdout.write(`${layer.padEnd(14)} ${state}\n`);
  }
  process.stdout.write(`run ${end.runId}: ${end.status} (exit ${end.exitCode}) in ${end.durationMs} ms${rollbackMs !== null ? `; rollback of every layer and its verification: ${rollbackMs} ms` : ""}\n`);
})'
code=${PIPESTATUS[0]}
case "$code" in
  0) [ ${#args[@]} -gt 0 ] || say "upgraded every layer and verified it" ;;
  1) say "a layer failed; every layer changed was rolled back and the starting point verified" ;;
  2) say "the rollback did not complete: 'npm run exec-doc -- rollback <run-id>' tries again from what is left" ;;
  3) say "a requirement is missing; nothing ran" ;;
esac
exit "$code"
