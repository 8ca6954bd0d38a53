package dev.boxoffice.platform;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * The HTTP port, bound before the node migrates or joins the cluster and held until the API's own server takes it
 * over: a node whose port is taken fails before any other node has seen it, instead of joining the cluster, taking
 * other nodes' bus traffic and then exiting. (The API's server can only listen once the clustered Vert.x exists,
 * that is after the join; between {@link #close} and its listen the port is free for a moment, and a node that loses
 * that race still fails before it takes bus traffic, since the API deploys first.)
 */
public final class PortReservation implements AutoCloseable {
  private final ServerSocket socket;

  private PortReservation(ServerSocket socket) {
    this.socket = socket;
  }

  /** @throws IllegalStateException naming the address when it cannot be bound (in use, or not this host's) */
  public static PortReservation hold(String host, int port) {
    ServerSocket socket = null;
    try {
      socket = new ServerSocket();
      socket.setReuseAddress(true); // as the API's server does: a port in TIME_WAIT is not "in use"
      socket.bind(new InetSocketAddress(host, port));
      return new PortReservation(socket);
    } catch (IOException | RuntimeException e) {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // nothing was bound
        }
      }
      throw new IllegalStateException("cannot listen on " + host + ":" + port + " (BOXOFFICE_HTTP_PORT, "
        + "BOXOFFICE_HTTP_HOST): " + e.getMessage(), e);
    }
  }

  /** Releases the port; idempotent. */
  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // a close that fails leaves nothing bound
    }
  }
}
