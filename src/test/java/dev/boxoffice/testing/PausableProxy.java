package dev.boxoffice.testing;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.ArrayList;
import java.util.List;

/**
 * A TCP proxy in front of a server (PostgreSQL) that can be paused: while paused it reads nothing from either side
 * and opens no new upstream connection, so bytes wait in the kernel's buffers as they would for a server that
 * froze; {@link #resume()} lets everything through again. The machine's shared PostgreSQL is never stopped.
 * <pre>
 * PausableProxy proxy = await(PausableProxy.start(vertx, "127.0.0.1", 5432));
 * String uri = proxy.uri(dbUri);   // the same database, through the proxy
 * await(proxy.pause()); ... await(proxy.resume());
 * </pre>
 * Everything runs on one context of {@code vertx}.
 */
public final class PausableProxy {
  private final Context context;
  private final String upstreamHost;
  private final int upstreamPort;
  private final NetClient client;
  private final List<NetSocket> sockets = new ArrayList<>();
  private final List<Runnable> onResume = new ArrayList<>();
  private NetServer server;
  private boolean paused;

  private PausableProxy(Vertx vertx, String upstreamHost, int upstreamPort) {
    this.context = vertx.getOrCreateContext();
    this.upstreamHost = upstreamHost;
    this.upstreamPort = upstreamPort;
    this.client = vertx.createNetClient();
  }

  /** A proxy to {@code host:port} on a free loopback port. */
  public static Future<PausableProxy> start(Vertx vertx, String host, int port) {
    PausableProxy proxy = new PausableProxy(vertx, host, port);
    return proxy.on(() -> vertx.createNetServer().connectHandler(proxy::accept).listen(0, "127.0.0.1"))
      .map(s -> {
        proxy.server = s;
        return proxy;
      });
  }

  /** A proxy to the server of {@code pgUri} (postgresql://user@host:port/db). */
  public static Future<PausableProxy> forUri(Vertx vertx, String pgUri) {
    io.vertx.pgclient.PgConnectOptions o = io.vertx.pgclient.PgConnectOptions.fromUri(pgUri);
    return start(vertx, o.getHost(), o.getPort());
  }

  /** {@code uri} (postgresql://user@host:port/db) with the proxy's address instead of the server's. */
  public String uri(String uri) {
    return uri.replaceFirst("@[^/@]+/", "@127.0.0.1:" + port() + "/");
  }

  public int port() {
    return server.actualPort();
  }

  /** Stops all traffic, as if the server froze. */
  public Future<Void> pause() {
    return on(() -> {
      paused = true;
      sockets.forEach(NetSocket::pause);
      return Future.succeededFuture();
    });
  }

  /** Lets the traffic through again, and opens the connections asked for meanwhile. */
  public Future<Void> resume() {
    return on(() -> {
      paused = false;
      sockets.forEach(NetSocket::resume);
      List<Runnable> waiting = new ArrayList<>(onResume);
      onResume.clear();
      waiting.forEach(Runnable::run);
      return Future.succeededFuture();
    });
  }

  public Future<Void> close() {
    return resume().compose(v -> on(() -> server.close())).compose(v -> client.close());
  }

  private <T> Future<T> on(java.util.function.Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return done.future();
  }

  private void accept(NetSocket downstream) {
    downstream.pause();
    Runnable connect = () -> client.connect(upstreamPort, upstreamHost).onComplete(ar -> {
      if (ar.failed()) {
        downstream.close();
        return;
      }
      NetSocket upstream = ar.result();
      sockets.add(downstream);
      sockets.add(upstream);
      pipe(downstream, upstream);
      pipe(upstream, downstream);
      if (paused) {
        upstream.pause();
      } else {
        downstream.resume();
      }
    });
    if (paused) {
      onResume.add(connect);
    } else {
      connect.run();
    }
  }

  private void pipe(NetSocket from, NetSocket to) {
    from.handler(to::write);
    from.closeHandler(v -> {
      sockets.remove(from);
      to.close();
    });
    from.exceptionHandler(e -> from.close());
  }
}
