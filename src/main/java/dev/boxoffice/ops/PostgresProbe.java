package dev.boxoffice.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;

import java.util.concurrent.TimeUnit;

/**
 * Readiness's question to PostgreSQL: can this node reach it now? Asked on a connection of the probe's own, not
 * through the shared pool: a pool busy with a burst of bookings is not an unreachable database (answering 503 then
 * would have the balancer drop a node for being loaded), and a pool whose connections hang on a cut network would
 * make the check wait as long as they do.
 *
 * <p>An answer on the open connection must come within {@link #ANSWER_MS}: when the network to PostgreSQL is cut
 * (packets dropped, nothing refused) the check fails after that long, not after a TCP timeout, and the connection it
 * waited on is closed, so the next check starts afresh (and waits for a connection no longer than the health
 * check's own timeout). A new connection is tried at most every {@link #RECONNECT_MS} while none answers
 * (a connect into a cut network hangs until the client's connect timeout; a later one succeeds as soon as the
 * network is back), and a late one that succeeds is kept. One per node, shared by its HTTP event loops (hence
 * {@link Shareable} and the locking).
 */
final class PostgresProbe implements Shareable {
  static final long ANSWER_MS = 1_000;
  static final long RECONNECT_MS = 2_000;

  private final Vertx vertx;
  private final PgConnectOptions options;
  private PgConnection connection;
  private Future<PgConnection> connecting;
  private long connectingSince;

  PostgresProbe(Vertx vertx, PgConnectOptions options) {
    this.vertx = vertx;
    this.options = options;
  }

  /** Succeeds when PostgreSQL answered {@code SELECT 1} within {@link #ANSWER_MS}. */
  Future<Void> check() {
    PgConnection current;
    synchronized (this) {
      current = connection;
    }
    Future<PgConnection> ready = current != null ? Future.succeededFuture(current) : connect();
    // the answer on an open connection is bounded here; a connect is bounded by the health check's own timeout
    // (a fresh connection costs a handshake and authentication, slower than a query on a loaded server)
    return ready.compose(c -> c.query("SELECT 1").execute()
      .timeout(ANSWER_MS, TimeUnit.MILLISECONDS)
      .onFailure(err -> drop(c))
      .<Void>mapEmpty());
  }

  private synchronized Future<PgConnection> connect() {
    long now = System.nanoTime();
    if (connecting != null && now - connectingSince < TimeUnit.MILLISECONDS.toNanos(RECONNECT_MS)) {
      return connecting;
    }
    connectingSince = now;
    connecting = PgConnection.connect(vertx, options).onSuccess(this::adopt);
    return connecting;
  }

  private void adopt(PgConnection c) {
    boolean spare;
    synchronized (this) {
      spare = connection != null && connection != c;
      if (!spare) {
        connection = c;
        connecting = null;
      }
    }
    if (spare) {
      c.close(); // two connects overlapped while the network was down: keep one
    } else {
      c.closeHandler(v -> drop(c));
    }
  }

  private void drop(PgConnection c) {
    synchronized (this) {
      if (connection != c) {
        return;
      }
      connection = null;
    }
    c.close();
  }
}
