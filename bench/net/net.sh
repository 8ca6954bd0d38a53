#!/usr/bin/env bash
# Network fault harness, run by hand as root (it makes network namespaces): three boxoffice nodes, PostgreSQL and
# Redis, each at its own address in its own network namespace on a private bridge (10.77.0.0/24, see netctl.sh),
# under load from the root namespace through every node, then:
#   pause-12s      a node frozen 12 s (SIGSTOP/SIGCONT): no side effect twice, no job lost, the node back in the
#                  cluster within 10 s of waking, and it takes back none of the others' leases
#   partition      a node cut off from the other nodes (not from PostgreSQL) for 15 s, then healed: nothing lost or
#                  oversold, no booking mailed twice as different messages, one cluster again within 15 s
#   postgres-cut   a node cut off from PostgreSQL: readiness 503 within 2 s, its leased jobs taken back by the
#                  others, ready again once healed
#   latency-100ms  100 ms added to every packet from one node to another (this kernel has no tc netem: a user-space
#                  delay line, netctl.sh): bookings/s before and with it, no request failing
# One line per scenario (PASS/FAIL and its figures), then "N passed, M failed"; non-zero exit on any violation.
#
#   sudo bench/net/net.sh
#   sudo NET_ONLY=partition,latency-100ms bench/net/net.sh
#
# PostgreSQL and Redis are private to the run (bench/faults/services.sh, bound to their namespaces' addresses). Node
# logs: target/net/node*.log; the faults made: target/net/netctl.log. On exit (also Ctrl-C) everything started is
# stopped and the namespaces and the bridge are removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "bench/net/net.sh makes network namespaces: run it as root" >&2; exit 2; }

OUT=target/net
SERVICES=bench/faults/services.sh
CTL=bench/net/netctl.sh
RUN_TEARDOWN="bash $CTL teardown"
# shellcheck source=bench/faults/run.sh
. bench/faults/run.sh

step() { echo "  [net $(date +%T)] $*" >&2; }

# 1. build
# shellcheck source=bench/faults/build.sh
. bench/faults/build.sh
build_driver NetHarness

# 2. the network, then PostgreSQL and Redis in their namespaces
rm -rf "$OUT"; mkdir -p "$OUT"
step "making the bridge and the namespaces (10.77.0.0/24)"
bash "$CTL" setup
FAULTS_PG_HOST=10.77.0.2 FAULTS_PG_NETNS=bo-pg FAULTS_REDIS_HOST=10.77.0.3 FAULTS_REDIS_NETNS=bo-redis \
  FAULTS_PG_CLIENTS=10.77.0.0/24 bash "$SERVICES" init
bash "$SERVICES" pg-start
bash "$SERVICES" redis-start
# shellcheck disable=SC1091
. "$FAULTS_RUN/env"
step "PostgreSQL on 10.77.0.2:$PG_PORT (bo-pg), Redis on 10.77.0.3:$REDIS_PORT (bo-redis), nodes on 10.77.0.11-13"
step "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# 3. the driver: nodes, load, faults (through netctl.sh), checks
export NET_PG_HOST=10.77.0.2 NET_PG_PORT=$PG_PORT NET_REDIS_HOST=10.77.0.3 NET_REDIS_PORT=$REDIS_PORT \
  NET_SMTP_HOST=10.77.0.1 NET_NODE_HOSTS=10.77.0.11,10.77.0.12,10.77.0.13 NET_NODE_NAMESPACES=bo-n1,bo-n2,bo-n3 \
  NET_CTL="$PWD/$CTL"
set +e
java -Xmx1g -cp "target/test-classes:target/classes:$(cat target/faults.classpath)" \
  -Dlogback.configurationFile=bench/faults/logback-driver.xml \
  dev.boxoffice.faults.NetHarness &
DRIVER=$!
wait "$DRIVER"
rc=$?
DRIVER=""
set -e
[ "$rc" -ne 0 ] && echo "net: FAILED (exit $rc); node logs in $OUT/" >&2
exit "$rc"
