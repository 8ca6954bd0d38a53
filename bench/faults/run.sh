# Sourced by bench/faults.sh and bench/net/net.sh (from the repository root, after OUT and SERVICES are set): the
# run's private directory for PostgreSQL and Redis (services.sh cleans up only /tmp/bo-faults.* directories), and on
# any exit (also Ctrl-C) the driver stopped, the services' logs kept in $OUT, the services stopped, then
# $RUN_TEARDOWN (a command, e.g. the network harness's namespaces) run.
export FAULTS_RUN
FAULTS_RUN=$(mktemp -d /tmp/bo-faults.XXXXXX)
chmod 755 "$FAULTS_RUN"
DRIVER=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$DRIVER" ] && kill -0 "$DRIVER" 2>/dev/null; then kill "$DRIVER" 2>/dev/null || true; wait "$DRIVER" 2>/dev/null || true; fi
  cp "$FAULTS_RUN/pg/postgres.log" "$OUT/postgres.log" 2>/dev/null || true
  cp "$FAULTS_RUN/redis.log" "$OUT/redis.log" 2>/dev/null || true
  bash "$SERVICES" cleanup || true
  if [ -n "${RUN_TEARDOWN:-}" ]; then $RUN_TEARDOWN || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
