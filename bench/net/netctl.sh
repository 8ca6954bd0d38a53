#!/usr/bin/env bash
# The network of bench/net/ and the faults made in it (root only). Every address is in 10.77.0.0/24, on a bridge
# of its own: the root namespace (the load driver and the SMTP sink) is 10.77.0.1, PostgreSQL 10.77.0.2 (namespace
# bo-pg), Redis 10.77.0.3 (bo-redis), node N 10.77.0.(10+N) (bo-nN). The namespaces have no default route: nothing
# in them reaches anything outside this subnet.
#
#   netctl.sh setup | teardown        make the bridge and the namespaces / remove them (and kill what runs in them)
#   netctl.sh isolate N | heal N      node N cut off from the other nodes, both directions (not from PostgreSQL,
#                                     Redis or the driver) / healed
#   netctl.sh pg-cut N | pg-heal N    node N cut off from PostgreSQL, both directions / healed
#   netctl.sh latency MS | latency off
#                                     MS ms added to every packet a node sends to another node / removed; traffic
#                                     to PostgreSQL, Redis and the driver is not delayed
#   netctl.sh clear                   remove every fault
#
# A cut is a blackhole route on both ends (this kernel has neither tc's drop action nor iptables): packets between
# the two ends are dropped, so established TCP connections hear nothing (retransmits into the void until healed);
# a new connection fails at once. Latency would be tc netem on the veths, but this kernel has no sch_netem either:
# delayline.py relays the node's frames in user space (its veth taken off the bridge, a second veth pair on it) and
# holds those bound for another node for MS ms. Offloads are off on every interface of the network (setup), so the
# relay sees finished checksums and MTU-sized frames; that costs the kernel a little CPU in every scenario alike.
set -euo pipefail
NET=10.77.0
BRIDGE=bo-net0
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=/run/bo-net # the relays' pid files
NODES=${NET_NODES:-3}
PG_NS=bo-pg
PG_IP=$NET.2
REDIS_NS=bo-redis
REDIS_IP=$NET.3

node_ns() { echo "bo-n$1"; }
node_ip() { echo "$NET.$((10 + $1))"; }
all_ns() {
  echo "$PG_NS" "$REDIS_NS"
  for i in $(seq 1 "$NODES"); do node_ns "$i"; done
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

add_ns() { # add_ns <namespace> <address>: a namespace on the bridge with that address
  ip netns add "$1"
  ip link add "$1-h" type veth peer name eth0 netns "$1"
  ip link set "$1-h" master "$BRIDGE" up
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" link set lo up
}

drop_between() { # drop_between <namespace> <address...>: nothing from the namespace to them nor back
  local ns=$1; shift
  local own
  own=$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
  for a in "$@"; do
    in_ns "$ns" ip route add blackhole "$a/32"
    echo "cut-at-ms=$(date +%s%3N) $ns -> $a" # when it took effect (the harness times from the first)
    for peer in $(all_ns); do
      if ip -n "$peer" -4 -o addr show dev eth0 | grep -q " $a/"; then in_ns "$peer" ip route add blackhole "$own/32"; fi
    done
  done
  echo "dropping $ns <-> $* (blackhole routes on both ends)"
}

clear_all() {
  for ns in $(all_ns); do
    ip netns list | grep -qw "$ns" || continue
    for r in $(ip -n "$ns" route show type blackhole | awk '{print $2}'); do
      in_ns "$ns" ip route del blackhole "$r" || true
    done
  done
}

latency_off() { # stop the relays, put each node's veth back on the bridge
  for i in $(seq 1 "$NODES"); do
    ns=$(node_ns "$i")
    if [ -f "$STATE/relay-$i.pid" ]; then
      kill "$(cat "$STATE/relay-$i.pid")" 2>/dev/null || true
      rm -f "$STATE/relay-$i.pid"
    fi
    if ip link show "$ns-d" > /dev/null 2>&1; then
      ip link set "$ns-h" master "$BRIDGE" promisc off
      ip link del "$ns-d"
    fi
  done
}

other_nodes() { # other_nodes <N>: the addresses of every node but N
  for i in $(seq 1 "$NODES"); do [ "$i" = "$1" ] || node_ip "$i"; done
}

case "${1:-}" in
  setup)
    "$0" teardown 2>/dev/null || true # what a killed run left
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    add_ns "$PG_NS" "$PG_IP"
    add_ns "$REDIS_NS" "$REDIS_IP"
    for i in $(seq 1 "$NODES"); do add_ns "$(node_ns "$i")" "$(node_ip "$i")"; done
    for ns in $(all_ns); do in_ns "$ns" python3 "$HERE/delayline.py" nooffload eth0; done
    # shellcheck disable=SC2046
    python3 "$HERE/delayline.py" nooffload "$BRIDGE" $(for ns in $(all_ns); do echo "$ns-h"; done)
    ;;
  teardown)
    latency_off
    for ns in $(all_ns); do
      ip netns list | grep -qw "$ns" || continue
      # only processes inside our own namespaces: what this harness started there
      for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns"
    done
    if ip link show "$BRIDGE" > /dev/null 2>&1; then ip link del "$BRIDGE"; fi
    rm -rf "$STATE"
    ;;
  isolate)
    # shellcheck disable=SC2046
    drop_between "$(node_ns "$2")" $(other_nodes "$2")
    ;;
  pg-cut)
    drop_between "$(node_ns "$2")" "$PG_IP"
    ;;
  heal | pg-heal | clear)
    clear_all
    latency_off
    echo "${1}: every fault removed"
    ;;
  latency)
    latency_off
    if [ "$2" = off ]; then
      echo "latency removed"
      exit 0
    fi
    mkdir -p "$STATE"
    for i in $(seq 1 "$NODES"); do
      ns=$(node_ns "$i")
      ip link add "$ns-d" type veth peer name "$ns-b"
      python3 "$HERE/delayline.py" nooffload "$ns-d" "$ns-b"
      ip link set "$ns-b" master "$BRIDGE" up
      ip link set "$ns-d" up promisc on
      ip link set "$ns-h" promisc on nomaster
      # shellcheck disable=SC2046
      # real-time priority: a wire does not wait for CPU; on a busy box an ordinary process would delay every
      # packet of the node, to PostgreSQL too (chrt absent or refused: an ordinary process)
      rt=()
      command -v chrt > /dev/null && chrt -f 10 true 2>/dev/null && rt=(chrt -f 10)
      setsid "${rt[@]}" python3 "$HERE/delayline.py" relay "$ns-h" "$ns-d" "$2" $(other_nodes "$i") \
        > "$STATE/relay-$i.log" 2>&1 < /dev/null &
      echo $! > "$STATE/relay-$i.pid"
    done
    echo "latency ${2} ms on every packet from a node to another node (delayline.py)"
    ;;
  *)
    echo "usage: $0 setup|teardown|isolate N|heal N|pg-cut N|pg-heal N|latency MS|latency off|clear" >&2
    exit 2
    ;;
esac
