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
#                                     MS ms added to every packet a node sends to another node (tc netem; traffic to
#                                     PostgreSQL, Redis and the driver is not delayed) / removed
#   netctl.sh clear                   remove every fault
#
# A cut drops packets silently (tc u32 filters on the namespace's interface, egress and ingress), as a broken link
# does: TCP retransmits into the void and the other side hears nothing. A kernel without u32 filters gets blackhole
# routes instead (on both ends: the sender's own packets are refused at once, the peer's get no answer).
set -euo pipefail
NET=10.77.0
BRIDGE=bo-net0
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

# u32 filters available? (tried once in the first node's namespace)
have_u32() {
  local ns
  ns=$(node_ns 1)
  if in_ns "$ns" tc qdisc add dev eth0 root handle 9: prio 2>/dev/null \
    && in_ns "$ns" tc filter add dev eth0 parent 9: protocol ip prio 9 u32 match ip dst 127.0.0.9/32 action drop \
      2>/dev/null; then
    in_ns "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
    return 0
  fi
  in_ns "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
  return 1
}

drop_between() { # drop_between <namespace> <address...>: nothing from the namespace to them nor back
  local ns=$1; shift
  if have_u32; then
    in_ns "$ns" tc qdisc replace dev eth0 root handle 1: prio
    in_ns "$ns" tc qdisc replace dev eth0 handle ffff: ingress
    for a in "$@"; do
      in_ns "$ns" tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst "$a/32" action drop
      in_ns "$ns" tc filter add dev eth0 parent ffff: protocol ip prio 1 u32 match ip src "$a/32" action drop
    done
    echo "dropping $ns <-> $* (tc u32)"
  else
    local own
    own=$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
    for a in "$@"; do
      in_ns "$ns" ip route add blackhole "$a/32"
      for peer in $(all_ns); do
        if ip -n "$peer" -4 -o addr show dev eth0 | grep -q " $a/"; then in_ns "$peer" ip route add blackhole "$own/32"; fi
      done
    done
    echo "dropping $ns <-> $* (blackhole routes: no tc u32 filters in this kernel)"
  fi
}

clear_all() {
  for ns in $(all_ns); do
    ip netns list | grep -qw "$ns" || continue
    in_ns "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
    in_ns "$ns" tc qdisc del dev eth0 ingress 2>/dev/null || true
    for r in $(ip -n "$ns" route show type blackhole | awk '{print $2}'); do
      in_ns "$ns" ip route del blackhole "$r" || true
    done
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
    ;;
  teardown)
    for ns in $(all_ns); do
      ip netns list | grep -qw "$ns" || continue
      # only processes inside our own namespaces: what this harness started there
      for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns"
    done
    if ip link show "$BRIDGE" > /dev/null 2>&1; then ip link del "$BRIDGE"; fi
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
    echo "${1}: every fault removed"
    ;;
  latency)
    if [ "$2" = off ]; then
      clear_all
      echo "latency removed"
      exit 0
    fi
    u32=0
    have_u32 && u32=1
    for i in $(seq 1 "$NODES"); do
      ns=$(node_ns "$i")
      if [ "$u32" = 1 ]; then
        # band 4 is reached only through the filters: traffic to the other nodes
        in_ns "$ns" tc qdisc replace dev eth0 root handle 1: prio bands 4
        in_ns "$ns" tc qdisc add dev eth0 parent 1:4 handle 40: netem delay "${2}ms"
        for a in $(other_nodes "$i"); do
          in_ns "$ns" tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst "$a/32" flowid 1:4
        done
      else
        in_ns "$ns" tc qdisc replace dev eth0 root netem delay "${2}ms"
      fi
    done
    if [ "$u32" = 1 ]; then echo "latency ${2} ms between nodes (tc netem + u32)"
    else echo "latency ${2} ms on ALL traffic of the nodes (no tc u32 filters in this kernel)"; fi
    ;;
  *)
    echo "usage: $0 setup|teardown|isolate N|heal N|pg-cut N|pg-heal N|latency MS|latency off|clear" >&2
    exit 2
    ;;
esac
