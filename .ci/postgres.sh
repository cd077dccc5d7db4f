#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on 127.0.0.1 and a free port.
#
#   bash .ci/postgres.sh start DIR [--install] [--lifeline PID]   # prints the cluster's DSN
#   bash .ci/postgres.sh stop DIR                                  # stops it, removes DIR
#
# start creates DIR (it must not exist or be empty), runs initdb there with a random password
# for the superuser "orderstatus" (password authentication on 127.0.0.1, nothing else listens),
# starts the server with fsync off (a throwaway cluster) and prints
# postgresql://orderstatus:PASSWORD@127.0.0.1:PORT/postgres: export it as
# ORDERSTATUS_TEST_POSTGRES and the PostgreSQL tests use it. --install installs Debian's
# postgresql package when no server is found (CI runs as root). --lifeline PID stops the
# cluster by itself once process PID has exited (the tests' own cluster, should pytest be
# killed). Run as root, the server runs as the "postgres" user that Debian's package creates.
set -euo pipefail

usage() { echo "usage: $0 start DIR [--install] [--lifeline PID] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1 dir=$2
shift 2

bindir() {
  local found
  for found in "$(pg_config --bindir 2>/dev/null || true)" \
               $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -n "$found" ] && [ -x "$found/initdb" ] && [ -x "$found/pg_ctl" ]; then
      echo "$found"
      return 0
    fi
  done
  command -v initdb >/dev/null && dirname "$(command -v initdb)" && return 0
  return 1
}

as_owner() {  # run a server command as the cluster's owner (never root: initdb refuses)
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case $action in
start)
  install=0 lifeline=""
  while [ $# -gt 0 ]; do
    case $1 in
      --install) install=1 ;;
      --lifeline) lifeline=${2:?--lifeline needs a pid}; shift ;;
      *) usage ;;
    esac
    shift
  done
  if ! bin=$(bindir); then
    if [ "$install" -eq 1 ]; then
      sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
      $sudo apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
      bin=$(bindir) || { echo "postgresql installed, but no initdb found" >&2; exit 1; }
    else
      echo "no PostgreSQL server found (install Debian's postgresql package)" >&2
      exit 1
    fi
  fi
  mkdir -p "$dir"
  [ -z "$(ls -A "$dir")" ] || { echo "$dir is not empty" >&2; exit 1; }
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$dir/data" "$dir/run"
  printf '%s\n' "$password" >"$dir/password"
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U orderstatus --pwfile="$dir/password" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/password"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-p $port -k $dir/run -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
     -c synchronous_commit=off -c max_connections=300 -c shared_buffers=64MB" >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "$bin" >"$dir/bindir"
  if [ -n "$lifeline" ]; then
    # Detached: stops the cluster once $lifeline is gone, unless stop did it first.
    nohup bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2/data" ]; do sleep 1; done
                   [ -d "$2/data" ] && bash "$3" stop "$2"' _ "$lifeline" "$dir" "$0" \
      >/dev/null 2>&1 </dev/null &
  fi
  echo "postgresql://orderstatus:$password@127.0.0.1:$port/postgres"
  ;;
stop)
  [ $# -eq 0 ] || usage
  if [ -f "$dir/bindir" ] && [ -d "$dir/data" ]; then
    as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  usage
  ;;
esac
