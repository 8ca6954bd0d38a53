package dev.boxoffice.testing;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One boxoffice node for a whole test class, on a database and a Redis key prefix of its own, started before the
 * class's {@code @BeforeAll} methods and closed after its {@code @AfterAll} methods:
 * <pre>
 * &#64;RegisterExtension
 * static final TestNode node = TestNode.create().with("roles", "http").with(TestNodes.noUserCrons());
 * </pre>
 * Tests that need several nodes, or start and stop nodes themselves, use {@link TestNodes} directly.
 */
public final class TestNode implements BeforeAllCallback, AfterAllCallback {
  private final JsonObject overrides = new JsonObject();
  private String owner;
  private String db;
  private String redisPrefix;
  private JsonObject settings;
  private Boxoffice.Node node;
  private ApiClient api;

  private TestNode() {
  }

  /** A node with {@link TestNodes#settings}: dev profile, every role, a free HTTP port. */
  public static TestNode create() {
    return new TestNode();
  }

  /** One setting over the defaults. */
  public TestNode with(String key, Object value) {
    overrides.put(key, value);
    return this;
  }

  /** Several settings over the defaults, such as {@link TestNodes#noUserCrons()}. */
  public TestNode with(JsonObject more) {
    overrides.mergeIn(more);
    return this;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    if (owner != null) {
      return; // a @Nested class shares its enclosing class's node
    }
    owner = context.getUniqueId();
    String name = context.getRequiredTestClass().getSimpleName();
    db = TestStorage.get().newDatabase(name);
    redisPrefix = TestStorage.redisPrefix(name);
    settings = TestNodes.settings(db, redisPrefix).mergeIn(overrides);
    node = TestNodes.start(settings, false);
    api = ApiClient.create(node.vertx(), port());
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (context.getUniqueId().equals(owner)) {
      Boxoffice.Node started = node;
      node = null;
      owner = null;
      TestNodes.stop(started);
    }
  }

  public Boxoffice.Node node() {
    if (node == null) {
      throw new IllegalStateException("the node runs from before @BeforeAll until after @AfterAll of its class");
    }
    return node;
  }

  public Platform platform() {
    return node().platform();
  }

  public Vertx vertx() {
    return node().vertx();
  }

  public Pool pool() {
    return platform().pool();
  }

  public int port() {
    return platform().config().integer("http_port");
  }

  /** The URI of the class's database. */
  public String db() {
    node();
    return db;
  }

  public String redisPrefix() {
    node();
    return redisPrefix;
  }

  /** Settings for another node beside this one: the same database, Redis prefix and overrides, a port of its own. */
  public JsonObject settings() {
    node();
    return settings.copy().put("http_port", TestStorage.freePort());
  }

  /** A client of this node's API without a token. */
  public ApiClient api() {
    node();
    return api;
  }

  /** A client carrying an admin token. */
  public ApiClient admin() {
    return api().withToken(TestTokens.admin());
  }

  /** A client carrying the token of {@code testuser}, role user. */
  public ApiClient user() {
    return api().withToken(TestTokens.user());
  }
}
