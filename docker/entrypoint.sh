#!/bin/sh
# The container's entry point; it runs the same outside a container.
#
#   entrypoint.sh serve      the GraphQL service on $ROPA_HOST:$ROPA_PORT (default), with
#                            $ROPA_WORKERS processes; ROPA_MIGRATE=1 migrates first
#   entrypoint.sh migrate    bring the database schema up to date, then exit
#   entrypoint.sh ARGS...    any other `ropa` command, e.g. `token create --org acme --role DPO`
set -eu

command="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$command" in
  migrate)
    exec ropa migrate "$@"
    ;;
  serve)
    if [ -z "${ROPA_DATABASE_URL:-}" ]; then
      echo "ROPA_DATABASE_URL is not set: point it at the PostgreSQL database" >&2
      exit 64
    fi
    if [ "${ROPA_MIGRATE:-0}" = "1" ]; then
      ropa migrate
    fi
    exec ropa serve --host "${ROPA_HOST:-0.0.0.0}" --port "${ROPA_PORT:-8000}" \
      --workers "${ROPA_WORKERS:-1}" "$@"
    ;;
  *)
    exec ropa "$command" "$@"
    ;;
esac
