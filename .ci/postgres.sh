# shellcheck shell=bash
# Starts a throw-away PostgreSQL cluster for the storage tests. Meant to be `source`d:
#
#   source .ci/postgres.sh      # installs PostgreSQL when missing, starts it on 127.0.0.1:55432
#                               # (TANDEM_PG_PORT=N picks another port for concurrent runs)
#   cargo test -p tandem-store  # the tests read TANDEM_TEST_POSTGRES
#   tandem_postgres_stop        # optional: also runs on exit of the sourcing shell
#
# initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user.
# fsync is off: the cluster lives only as long as the test run.

tandem_postgres_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -c "$1"
  else
    bash -c "$1"
  fi
}

tandem_postgres_stop() {
  if [ -n "${TANDEM_PGTMP:-}" ] && [ -d "$TANDEM_PGTMP" ]; then
    tandem_postgres_as_owner "$TANDEM_PGBIN/pg_ctl -D $TANDEM_PGTMP/data -m fast -w stop" >/dev/null 2>&1 || true
    rm -rf "$TANDEM_PGTMP"
  fi
  TANDEM_PGTMP=
}

tandem_postgres_start() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql postgresql-contrib || return 1
  fi
  TANDEM_PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  TANDEM_PGTMP=$(mktemp -d /tmp/pgtest.XXXX) || return 1
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$TANDEM_PGTMP"
  fi
  tandem_postgres_as_owner "$TANDEM_PGBIN/initdb -D $TANDEM_PGTMP/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null" || return 1
  if ! tandem_postgres_as_owner "$TANDEM_PGBIN/pg_ctl -D $TANDEM_PGTMP/data -l $TANDEM_PGTMP/pg.log -w -o '-c listen_addresses=127.0.0.1 -p ${TANDEM_PG_PORT:-55432} -k $TANDEM_PGTMP -c fsync=off' start" >/dev/null; then
    echo "PostgreSQL did not start (is port ${TANDEM_PG_PORT:-55432} taken?); its log:" >&2
    cat "$TANDEM_PGTMP/pg.log" >&2
    tandem_postgres_stop
    return 1
  fi
  export TANDEM_TEST_POSTGRES=postgres://postgres@127.0.0.1:${TANDEM_PG_PORT:-55432}/postgres
  trap tandem_postgres_stop EXIT
}

tandem_postgres_start
