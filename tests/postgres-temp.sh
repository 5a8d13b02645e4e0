#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests, from Debian's `postgresql` package:
#   postgres-temp.sh start        initdb in a new temporary directory, start on 127.0.0.1 on a free port; prints
#                                 "DIR PORT" (the connection is Host=127.0.0.1;Port=PORT;Username=postgres, trust auth)
#   postgres-temp.sh stop DIR     stops the server of DIR (by the PID in its postmaster.pid) and deletes DIR
# Only loopback, only trust for the local test user; the data directory lives as long as the tests. PostgreSQL refuses
# to run as root, so as root the server runs as the `postgres` user the package created. Every wait is bounded.
set -euo pipefail

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "PostgreSQL is not installed (apt-get install postgresql)." >&2
  exit 2
fi

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(runuser -u postgres --)
fi

case "${1:-}" in
  start)
    dir="$(mktemp -d "${TMPDIR:-/tmp}/tokenadmin-pg.XXXXXX")"
    chmod 700 "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3 4 5 6 7 8; do
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
      # A port something already answers on is taken; the few microseconds until postgres binds it are a race that
      # a failed start below retries.
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        continue
      fi
      # -w -t 60: pg_ctl waits until the server accepts connections, at most 60 s.
      if "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
          -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
          start >/dev/null 2>&1; then
        echo "$dir $port"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2 || true
    rm -rf "$dir"
    echo "PostgreSQL did not start." >&2
    exit 1
    ;;
  stop)
    dir="${2:?postgres-temp.sh stop DIR}"
    case "$dir" in */tokenadmin-pg.*) ;; *) echo "Not a directory this script made: $dir" >&2; exit 2 ;; esac
    if [ -f "$dir/data/postmaster.pid" ]; then
      pid="$(head -n 1 "$dir/data/postmaster.pid")"
      # Fast shutdown by PID (SIGINT), then wait at most 30 s, then SIGKILL.
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres-temp.sh start | stop DIR" >&2
    exit 2
    ;;
esac
