package dev.boxoffice.platform;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTTP port (and the operators' port, when set), bound before the node migrates or joins the cluster and held
 * until the API's own servers take them over: a node whose port is taken fails before any other node has seen it,
 * instead of joining the cluster, taking other nodes' bus traffic and then exiting. (The API's server can only listen
 * once the clustered Vert.x exists, that is after the join; between {@link #close} and its listen the port is free
 * for a moment, and a node that loses that race still fails before it takes bus traffic, since the API deploys
 * first.)
 */
public final class PortReservation implements AutoCloseable {
  private final List<ServerSocket> sockets;

  private PortReservation(List<ServerSocket> sockets) {
    this.sockets = sockets;
  }

  /** @throws IllegalStateException naming the address when it cannot be bound (in use, or not this host's) */
  public static PortReservation hold(String host, int port) {
    return hold(host, port, null);
  }

  /** The HTTP port and, when not null, the operators' port ({@code ops_port}) on the same host. */
  public static PortReservation hold(String host, int port, Integer opsPort) {
    List<ServerSocket> held = new ArrayList<>();
    PortReservation reservation = new PortReservation(held);
    try {
      held.add(bind(host, port, "BOXOFFICE_HTTP_PORT, BOXOFFICE_HTTP_HOST"));
      if (opsPort != null) {
        held.add(bind(host, opsPort, "BOXOFFICE_OPS_PORT, BOXOFFICE_HTTP_HOST"));
      }
      return reservation;
    } catch (RuntimeException e) {
      reservation.close();
      throw e;
    }
  }

  private static ServerSocket bind(String host, int port, String settings) {
    ServerSocket socket = null;
    try {
      socket = new ServerSocket();
      socket.setReuseAddress(true); // as the API's server does: a port in TIME_WAIT is not "in use"
      socket.bind(new InetSocketAddress(host, port));
      return socket;
    } catch (IOException | RuntimeException e) {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // nothing was bound
        }
      }
      throw new IllegalStateException("cannot listen on " + host + ":" + port + " (" + settings + "): "
        + e.getMessage(), e);
    }
  }

  /** Releases the ports; idempotent. */
  @Override
  public void close() {
    for (ServerSocket socket : sockets) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // a close that fails leaves nothing bound
      }
    }
  }
}
