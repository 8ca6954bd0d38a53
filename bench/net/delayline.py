#!/usr/bin/env python3
"""Latency for bench/net/ where the kernel has no tc netem (sch_netem): a transparent two-port Ethernet relay.

  delayline.py relay NODE_IF BRIDGE_IF DELAY_MS ADDRESS...
      Frames read on NODE_IF (the host side of a node's veth, taken off the bridge) leave on BRIDGE_IF (a veth whose
      peer is on the bridge) after DELAY_MS when their IPv4 destination is one of ADDRESS (the other nodes), at once
      otherwise; frames read on BRIDGE_IF leave on NODE_IF at once. So a packet between two nodes is delayed once, by
      its sender's relay, and nothing to or from PostgreSQL, Redis or the driver is.
  delayline.py nooffload IFNAME...
      Turns checksum and segmentation offload off (as `ethtool -K IF tx off tso off gso off` would; this box has no
      ethtool): a relay reading raw frames must see finished checksums and frames no larger than the MTU.
"""
import ctypes
import fcntl
import heapq
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17
ETHTOOL_STSO = 0x1F
ETHTOOL_SGSO = 0x24
ETHTOOL_SGRO = 0x2C


def ethtool_set(ifname, cmd, value):
    value_buf = ctypes.create_string_buffer(struct.pack("II", cmd, value))
    ifreq = struct.pack("16sP", ifname.encode(), ctypes.addressof(value_buf)).ljust(40, b"\0")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifreq)


def nooffload(ifnames):
    for ifname in ifnames:
        for cmd in (ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO, ETHTOOL_STXCSUM):
            try:
                ethtool_set(ifname, cmd, 0)
            except OSError as e:  # a feature the device does not have
                print(f"{ifname}: ethtool command {cmd:#x}: {e}", file=sys.stderr)


def raw(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def relay(node_if, bridge_if, delay_ms, addresses):
    delay = delay_ms / 1000.0
    delayed = {socket.inet_aton(a) for a in addresses}
    node, bridge = raw(node_if), raw(bridge_if)
    waiting = []  # (due, seq, frame)
    seq = 0
    dropped = 0

    def send(sock, frame):
        nonlocal dropped
        try:
            sock.send(frame)
        except OSError:
            dropped += 1

    while True:
        timeout = max(0.0, waiting[0][0] - time.monotonic()) if waiting else 1.0
        readable, _, _ = select.select([node, bridge], [], [], timeout)
        for sock in readable:
            while True:
                try:
                    frame, addr = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:  # our own sends, seen again
                    continue
                if sock is node:
                    if frame[12:14] == b"\x08\x00" and frame[30:34] in delayed:
                        seq += 1
                        heapq.heappush(waiting, (time.monotonic() + delay, seq, frame))
                    else:
                        send(bridge, frame)
                else:
                    send(node, frame)
        now = time.monotonic()
        while waiting and waiting[0][0] <= now:
            send(bridge, heapq.heappop(waiting)[2])


def main(argv):
    if len(argv) >= 2 and argv[1] == "nooffload":
        nooffload(argv[2:])
    elif len(argv) >= 5 and argv[1] == "relay":
        relay(argv[2], argv[3], int(argv[4]), argv[5:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
