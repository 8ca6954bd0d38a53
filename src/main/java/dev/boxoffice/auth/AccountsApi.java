package dev.boxoffice.auth;

import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Paging;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * {@code GET /accounts}, {@code POST /accounts}, {@code PATCH /accounts/{username}} (admin only, by the contract).
 * Passwords are hashed on worker threads ({@link Passwords}); a change is published on {@link Bus#ACCOUNT_CHANGED}
 * once committed, before the answer, so the account's older tokens are refused from the next request on.
 */
public final class AccountsApi extends VerticleBase {
  private final Platform platform;
  private Accounts accounts;

  public AccountsApi(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    accounts = new Accounts(platform.pool());
    return Future.all(
      ApiHandlers.serve(vertx, "listAccounts", this::list),
      ApiHandlers.serve(vertx, "createAccount", this::create),
      ApiHandlers.serve(vertx, "updateAccount", this::update));
  }

  private Future<JsonObject> list(Bus.ApiRequest req) {
    return accounts.list(Paging.Request.of(req, "accounts", Paging.Key.LONG));
  }

  private Future<JsonObject> create(Bus.ApiRequest req) {
    JsonObject body = req.body();
    String username = body.getString("username");
    String password = body.getString("password");
    String role = body.getString("role", "user");
    Map<String, String> problems = AccountRules.problems(username == null ? "" : username,
      password == null ? "" : password, role, platform.config().isProd());
    if (!problems.isEmpty()) {
      return Future.failedFuture(Failure.invalid(problems));
    }
    return Passwords.hash(vertx, password)
      .compose(hash -> accounts.create(username, hash, role))
      .map(created -> Bus.ApiReply.of(201, created));
  }

  private Future<JsonObject> update(Bus.ApiRequest req) {
    String username = req.params().getString("username");
    JsonObject body = req.body();
    String password = body.getString("password");
    String role = body.getString("role");
    Boolean disabled = body.getBoolean("disabled");
    Map<String, String> problems = AccountRules.problems(null, password, role, platform.config().isProd());
    if (password == null && role == null && disabled == null) {
      problems.put("body", "needs at least one of password, role, disabled");
    }
    if (!problems.isEmpty()) {
      return Future.failedFuture(Failure.invalid(problems));
    }
    Future<String> hash = password == null ? Future.succeededFuture() : Passwords.hash(vertx, password);
    return hash.compose(h -> accounts.update(username, new Accounts.Change(h, role, disabled)))
      .onSuccess(changed -> vertx.eventBus().publish(Bus.ACCOUNT_CHANGED, username))
      .map(Bus.ApiReply::ok);
  }
}
