package dev.boxoffice.platform;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The addresses a node looks for members at, from {@code BOXOFFICE_CLUSTER_MEMBERS}: comma-separated entries,
 * each {@code host}, {@code host:port} or {@code host:first-last} (IPv6 in brackets: {@code [::1]:5701}).
 *
 * <p>A host without a port means every port within {@code cluster_port_count} of this node's own
 * {@code cluster_port}, both ways. Hazelcast alone tries only this node's port and the two above it, so two nodes on
 * one host with distinct ports formed one cluster only when the one with the lower port started last; a window
 * on both sides of the node's own port makes discovery the same whichever starts first. Ranges are expanded here:
 * Hazelcast's member list takes no port ranges.
 */
public final class ClusterMembers {
  /** More addresses than this in the expanded list is a typing error (a range of the whole port space). */
  static final int MAX_ADDRESSES = 1000;

  private ClusterMembers() {
  }

  /** {@code host:port} strings, in the order given, without duplicates; throws naming a bad entry. */
  public static List<String> expand(String members, int ownPort, int portCount) {
    Set<String> out = new LinkedHashSet<>();
    if (members == null) {
      return List.of();
    }
    for (String raw : members.split(",")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      String host;
      String ports;
      if (entry.startsWith("[")) {
        int close = entry.indexOf(']');
        if (close < 0) {
          throw bad(entry, "an IPv6 address goes in brackets: [::1] or [::1]:5701");
        }
        host = entry.substring(0, close + 1);
        String rest = entry.substring(close + 1);
        if (!rest.isEmpty() && !rest.startsWith(":")) {
          throw bad(entry, "expected :port after the bracketed address");
        }
        ports = rest.isEmpty() ? null : rest.substring(1);
      } else {
        int colon = entry.indexOf(':');
        if (colon >= 0 && entry.indexOf(':', colon + 1) >= 0) {
          throw bad(entry, "an IPv6 address goes in brackets: [::1] or [::1]:5701");
        }
        host = colon < 0 ? entry : entry.substring(0, colon);
        ports = colon < 0 ? null : entry.substring(colon + 1);
      }
      if (host.isBlank() || host.contains(" ")) {
        throw bad(entry, "no host");
      }
      int first;
      int last;
      if (ports == null) {
        first = Math.max(1, ownPort - (portCount - 1));
        last = Math.min(65535, ownPort + (portCount - 1));
      } else {
        String[] range = ports.split("-", -1);
        if (range.length > 2) {
          throw bad(entry, "a port range is first-last");
        }
        first = port(entry, range[0]);
        last = range.length == 2 ? port(entry, range[1]) : first;
        if (last < first) {
          throw bad(entry, "the range ends before it starts");
        }
      }
      if (out.size() + (last - first + 1) > MAX_ADDRESSES) {
        throw bad(entry, "more than " + MAX_ADDRESSES + " addresses in all; list hosts or narrower ranges");
      }
      for (int p = first; p <= last; p++) {
        out.add(host + ":" + p);
      }
    }
    return new ArrayList<>(out);
  }

  private static int port(String entry, String text) {
    try {
      int port = Integer.parseInt(text.trim());
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // named below
    }
    throw bad(entry, "a port is a number from 1 to 65535, got '" + text + "'");
  }

  private static IllegalArgumentException bad(String entry, String why) {
    return new IllegalArgumentException("BOXOFFICE_CLUSTER_MEMBERS entry '" + entry + "': " + why
      + " (entries: host, host:port or host:first-last, comma separated)");
  }
}
