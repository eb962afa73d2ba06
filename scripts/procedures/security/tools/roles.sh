#!/usr/bin/env bash
# Helpers of the security guide's role procedures. Passwords live in files only their owner can
# read; they reach PostgreSQL as SCRAM verifiers on psql's standard input, never as arguments.
#
#   roles.sh gen-password <file>                 32 random characters into <file> (0600)
#   roles.sh set-password <role> <password-file> ALTER ROLE <role> LOGIN PASSWORD '<SCRAM verifier>'
#   roles.sh pgpass <file> <role> <password-file>  a pgpass file (0600) for <role> on $PGPORT/$PGDATABASE
#   roles.sh can-login <role> <pgpass-file>      exit 0 when <role> logs in over TCP with that password
#   roles.sh hba-require-password <roles> <saved-copy>  TCP logins of <roles> (a,b) need their password (rehearsal server)
#   roles.sh hba-restore <saved-copy>            put pg_hba.conf back as it was and reload
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: roles.sh <command> ...}
psql_() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

case "$cmd" in
  gen-password)
    file=${2:?file}
    (umask 077; python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(32)))' > "$file")
    ;;
  set-password)
    role=${2:?role}; file=${3:?password file}
    [[ "$role" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "roles.sh: bad role name $role" >&2; exit 64; }
    verifier=$(python3 "$here/scram.py" "$file")
    printf "alter role %s login password '%s';\n" "$role" "$verifier" | psql_
    ;;
  pgpass)
    out=${2:?file}; role=${3:?role}; file=${4:?password file}
    password=$(cat "$file")
    # pgpass escapes : and \ in its fields.
    escaped=$(printf '%s' "$password" | sed 's/\\/\\\\/g; s/:/\\:/g')
    (umask 077; printf '127.0.0.1:%s:%s:%s:%s\n' "${PGPORT:-5432}" "${PGDATABASE:-postgres}" "$role" "$escaped" > "$out")
    ;;
  can-login)
    role=${2:?role}; passfile=${3:?pgpass file}
    PGPASSFILE="$passfile" psql -X -A -t -q -w -h 127.0.0.1 -U "$role" -c 'select current_user' > /dev/null 2>&1
    ;;
  hba-require-password)
    roles=${2:?roles}; saved=${3:?saved copy}
    hba=$(psql_ -A -t -c 'show hba_file')
    [ -w "$hba" ] || { echo "roles.sh: cannot write $hba; on a real server pg_hba.conf must already require scram-sha-256 for $roles" >&2; exit 3; }
    cp "$hba" "$saved"
    # In place (same file, owner and mode): the server reads it as its own user.
    { printf 'host all %s 127.0.0.1/32 scram-sha-256\n' "$roles"; cat "$saved"; } > "$hba.exec-doc"
    cat "$hba.exec-doc" > "$hba"
    rm -f "$hba.exec-doc"
    psql_ -c 'select pg_reload_conf()' > /dev/null
    errors=$(psql_ -A -t -c 'select count(*) from pg_hba_file_rules where error is not null')
    [ "$errors" = 0 ] || { echo "roles.sh: pg_hba.conf has errors after the change" >&2; exit 1; }
    # The reload is asynchronous: wait until a login without a password is refused for a password.
    first=${roles%%,*}
    for _ in $(seq 1 100); do
      out=$(PGPASSFILE=/dev/null psql -X -w -h 127.0.0.1 -U "$first" -c 'select 1' 2>&1 || true)
      case "$out" in *password*) exit 0 ;; esac
      sleep 0.05
    done
    echo "roles.sh: logins of $first still need no password after the reload: $out" >&2
    exit 1
    ;;
  hba-restore)
    saved=${2:?saved copy}
    [ -f "$saved" ] || exit 0
    hba=$(psql_ -A -t -c 'show hba_file')
    cat "$saved" > "$hba"
    psql_ -c 'select pg_reload_conf()' > /dev/null
    rm -f "$saved"
    ;;
  *)
    echo "roles.sh: unknown command $cmd" >&2; exit 64 ;;
esac
