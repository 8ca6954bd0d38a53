package dev.boxoffice.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The client's address, for per-address limits (the login limiter). The TCP peer, unless the peer is one of
 * {@code trusted_proxies} (addresses or CIDRs): then {@code X-Forwarded-For} is read from the right, skipping the
 * trusted hops, and the first address not trusted is the client. Anyone else's X-Forwarded-For is ignored, or
 * every guess could claim a fresh address and escape the limit.
 */
public final class ClientAddress {
  // only literals are parsed: InetAddress.getByName on a name would do a DNS lookup on the event loop
  private static final Pattern LITERAL = Pattern.compile("[0-9a-fA-F:.]+");

  private record Cidr(byte[] network, int bits) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >>> (i % 8);
        if ((address[i / 8] & mask) != (network[i / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }

  private final List<Cidr> trusted;

  private ClientAddress(List<Cidr> trusted) {
    this.trusted = trusted;
  }

  /** From the setting: a comma list of addresses and CIDRs; null or blank trusts no proxy. */
  public static ClientAddress fromSetting(String setting) {
    List<Cidr> trusted = new ArrayList<>();
    if (setting != null) {
      for (String entry : setting.split(",")) {
        String e = entry.trim();
        if (!e.isEmpty()) {
          trusted.add(cidr(e));
        }
      }
    }
    return new ClientAddress(List.copyOf(trusted));
  }

  public String of(HttpServerRequest request) {
    SocketAddress peer = request.remoteAddress();
    String peerHost = peer == null ? null : peer.hostAddress();
    return resolve(peerHost, request.headers().getAll("X-Forwarded-For"));
  }

  /** The client for a peer and the X-Forwarded-For header lines it sent (in order). */
  String resolve(String peer, List<String> forwardedFor) {
    if (peer == null || trusted.isEmpty() || !isTrusted(peer)) { // no proxy trusted (the default): nothing to parse
      return peer;
    }
    List<String> hops = new ArrayList<>();
    forwardedFor.forEach(line -> {
      for (String hop : line.split(",")) {
        hops.add(hop.trim());
      }
    });
    for (int i = hops.size() - 1; i >= 0; i--) {
      byte[] hop = parse(hops.get(i));
      if (hop == null) {
        return peer; // garbled: the chain cannot be trusted past this hop; the proxy is the best we know
      }
      if (!isTrusted(hop)) {
        return hops.get(i);
      }
    }
    return peer; // only trusted hops (or no header): a request from the proxies themselves
  }

  private boolean isTrusted(String address) {
    byte[] parsed = parse(address);
    return parsed != null && isTrusted(parsed);
  }

  private boolean isTrusted(byte[] address) {
    return trusted.stream().anyMatch(c -> c.contains(address));
  }

  private static Cidr cidr(String entry) {
    int slash = entry.indexOf('/');
    byte[] network = parse(slash < 0 ? entry : entry.substring(0, slash));
    if (network == null) {
      throw new IllegalArgumentException("trusted_proxies: not an IP address or CIDR: " + entry);
    }
    int bits = network.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(entry.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (bits < 0 || bits > network.length * 8) {
        throw new IllegalArgumentException("trusted_proxies: bad prefix length in " + entry);
      }
    }
    return new Cidr(network, bits);
  }

  /** The address's bytes (IPv4-mapped IPv6 as IPv4), or null when it is not an IP literal. */
  static byte[] parse(String text) {
    String s = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    if (s.isEmpty() || !LITERAL.matcher(s).matches()) {
      return null;
    }
    if (s.indexOf(':') < 0) {
      return ipv4(s);
    }
    try {
      // in brackets the JDK parses an IPv6 literal or fails, never a DNS lookup
      return InetAddress.getByName("[" + s + "]").getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static byte[] ipv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      if (parts[i].isEmpty() || parts[i].length() > 3 || !parts[i].chars().allMatch(Character::isDigit)) {
        return null;
      }
      int v = Integer.parseInt(parts[i]);
      if (v > 255) {
        return null;
      }
      out[i] = (byte) v;
    }
    return out;
  }
}
