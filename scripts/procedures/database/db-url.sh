#!/usr/bin/env bash
# Connection URLs for the major-version upgrade, without a shell's guesswork about URL syntax:
#   db-url.sh with-database <url> <database>   the same server, another database
#   db-url.sh without-password <url>           what may be written to a file or shown
set -euo pipefail
case "${1:-}" in
  with-database)
    node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + encodeURIComponent(process.argv[2]); console.log(u.href)' "$2" "$3"
    ;;
  without-password)
    node -e 'const u = new URL(process.argv[1]); u.password = ""; console.log(u.href)' "$2"
    ;;
  *) echo "usage: db-url.sh with-database <url> <database> | without-password <url>" >&2; exit 64 ;;
esac
