package dev.boxoffice.auth;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.Credentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Refuses the tokens of disabled accounts, and tokens issued before the account's last change (password, role,
 * disabled: see {@code token_version} in the schema), at the HTTP edge: a signed, unexpired token is accepted only if
 * its {@code ver} claim is the account's current version.
 *
 * <p>Cheap per request: each node keeps what it read per username for {@link #FRESH_MS}, and forgets a username at
 * once when {@link Bus#ACCOUNT_CHANGED} says it changed (published by the accounts API on any node). Past that, the
 * first request reads the account again and waits for it; while that read is under way, the account's other
 * requests use what was read before (up to {@link #STALE_MS} old), so a busy account never piles its requests up on
 * PostgreSQL, nor holds them at the edge, unseen by the waiting bounds, when the database stalls. A change made by
 * the {@code accounts} command, which has no bus, thus refuses older tokens on every node within {@link #FRESH_MS}
 * plus one read; the tokens issued after it work at once (a newer version than remembered is read again). A token
 * naming no account passes: only the holder of the signing secret can make one (tests do), and accounts are never
 * deleted. When PostgreSQL cannot answer, the last known state is used, else the token passes: the request itself
 * then meets the same unavailable database.
 */
public final class TokenGate implements Shareable {
  private static final Logger log = LoggerFactory.getLogger(TokenGate.class);
  public static final long FRESH_MS = 5_000;
  static final long STALE_MS = 30_000;
  /** Only signed tokens reach the cache, so this bounds tests and oddities, not attackers. */
  private static final int MAX_ENTRIES = 10_000;
  private static final String NODE_KEY = "gate";

  private record Known(Accounts.TokenState state, long readAtNanos) {
  }

  private final Accounts accounts;
  private final Map<String, Known> known = new ConcurrentHashMap<>();
  /** Usernames being read again, with when that read began. */
  private final Map<String, Long> reading = new ConcurrentHashMap<>();
  /** Counts forgotten usernames: a read that began before one must not store what it read (it may predate it). */
  private final AtomicLong changes = new AtomicLong();
  private volatile boolean warned;

  private TokenGate(Platform platform) {
    this.accounts = new Accounts(platform.pool());
    platform.vertx().eventBus().<String>consumer(Bus.ACCOUNT_CHANGED, msg -> {
      changes.incrementAndGet();
      known.remove(msg.body());
    });
  }

  /** Sets up this node's gate (once per node, before its HTTP API starts). */
  public static void install(Platform platform) {
    nodeGates(platform.vertx()).computeIfAbsent(NODE_KEY, k -> new TokenGate(platform));
  }

  /**
   * {@code jwt}, with this node's gate after its own checks; {@code jwt} unchanged on a node without one. The HTTP
   * edge authenticates with what this returns.
   */
  public static JWTAuth guard(Vertx vertx, JWTAuth jwt) {
    TokenGate gate = nodeGates(vertx).get(NODE_KEY);
    return gate == null ? jwt : new Guarded(jwt, gate);
  }

  private static LocalMap<String, TokenGate> nodeGates(Vertx vertx) {
    return vertx.sharedData().getLocalMap("boxoffice.auth.token-gate");
  }

  /** The user when its token is still good; a failure (a 401 at the edge) when it was revoked. */
  Future<User> check(User user) {
    JsonObject claims = user.principal();
    String username = claims.getString("sub");
    if (username == null) {
      return Future.succeededFuture(user);
    }
    int version = claims.getValue("ver") instanceof Number n ? n.intValue() : 0;
    return state(username, version).compose(state -> {
      if (state == null) {
        return Future.succeededFuture(user);
      }
      if (state.disabled()) {
        return Future.failedFuture(new IllegalStateException("account " + username + " is disabled"));
      }
      if (state.tokenVersion() != version) {
        return Future.failedFuture(new IllegalStateException("token of " + username + " was revoked"));
      }
      return Future.succeededFuture(user);
    });
  }

  /**
   * The account's state, from memory while fresh (or stale while another request reads it again); read again when a
   * token names a newer version than remembered (issued after a change this node has not heard of, such as one made
   * by the {@code accounts} command).
   */
  private Future<Accounts.TokenState> state(String username, int tokenVersion) {
    Known k = known.get(username);
    long now = System.nanoTime();
    if (k != null && (k.state() == null || k.state().tokenVersion() >= tokenVersion)) {
      long age = now - k.readAtNanos();
      if (age < TimeUnit.MILLISECONDS.toNanos(FRESH_MS)) {
        return Future.succeededFuture(k.state());
      }
      if (age < TimeUnit.MILLISECONDS.toNanos(STALE_MS) && reading.containsKey(username)) {
        return Future.succeededFuture(k.state());
      }
    }
    Long other = reading.putIfAbsent(username, now);
    if (other != null && now - other > TimeUnit.MILLISECONDS.toNanos(STALE_MS)) {
      reading.put(username, now); // a read that never ended (a frozen server): this one takes its place
    }
    return read(username, k).onComplete(done -> reading.remove(username, now));
  }

  /** Reads from the caller's context (no future shared between event loops); two reads at once both just read. */
  private Future<Accounts.TokenState> read(String username, Known k) {
    long changesBefore = changes.get();
    long now = System.nanoTime();
    return accounts.tokenState(username).map(state -> {
      warned = false;
      if (known.size() >= MAX_ENTRIES) {
        known.clear();
      }
      if (changes.get() == changesBefore) {
        known.put(username, new Known(state, now));
      }
      return state;
    }).recover(err -> {
      if (!warned) {
        warned = true;
        log.warn("token checks cannot read accounts ({}); using what was last read, else letting tokens pass",
          err.toString());
      }
      return Future.succeededFuture(k == null ? null : k.state());
    });
  }

  /** The edge's provider: the signature and expiry checks of {@code jwt}, then the gate's. */
  private static final class Guarded implements JWTAuth {
    private final JWTAuth jwt;
    private final TokenGate gate;

    Guarded(JWTAuth jwt, TokenGate gate) {
      this.jwt = jwt;
      this.gate = gate;
    }

    @Override
    public Future<User> authenticate(Credentials credentials) {
      return jwt.authenticate(credentials).compose(gate::check);
    }

    @Override
    public String generateToken(JsonObject claims, JWTOptions options) {
      return jwt.generateToken(claims, options);
    }

    @Override
    public String generateToken(JsonObject claims) {
      return jwt.generateToken(claims);
    }
  }
}
