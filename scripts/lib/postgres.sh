# A throw-away PostgreSQL 15 server on loopback for the tests (Debian's postgresql package; installed when missing).
# Sourced by scripts/test after common.sh. pg_start exports TRACE_TEST_POSTGRES; pg_stop removes everything.

PG_DIR=""

pg_start() {
  apt_install postgresql
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$bin/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  PG_DIR=$(mktemp -d /tmp/trace-pg.XXXXXX)
  local port run_as=()
  port=$(free_port)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PG_DIR"; run_as=(runuser -u postgres --)
    # Some sandboxes leave /dev/null as 0644; initdb (running as postgres) needs to write to it.
    runuser -u postgres -- sh -c ': > /dev/null' 2>/dev/null || chmod 666 /dev/null
  fi
  "${run_as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  "${run_as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_DIR -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  PG_BIN="$bin"
  export TRACE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

pg_stop() {
  [ -n "$PG_DIR" ] || return 0
  local run_as=()
  [ "$(id -u)" -eq 0 ] && run_as=(runuser -u postgres --)
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
