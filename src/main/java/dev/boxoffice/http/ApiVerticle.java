package dev.boxoffice.http;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.auth.TokenGate;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.NodeLifecycle;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.JWTAuthHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.ValidatedRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The HTTP edge. Routes, validation and security come from openapi.yaml; each operation is forwarded to
 * {@code api.<operationId>} on the clustered event bus and the reply is written back. Operations answered at the
 * edge itself (health, pages) are given to the constructor as local operations.
 */
public final class ApiVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ApiVerticle.class);
  /** On undeploy, how long requests in flight may take to finish; new connections are refused at once. */
  public static final long SHUTDOWN_GRACE_MS = 10_000;

  private final AppConfig config;
  private final Map<String, Handler<RoutingContext>> localOperations;
  private final Consumer<Router> extraRoutes;
  private HttpServer server;
  private HttpServer opsServer;
  private InFlightRequests inFlight;
  private ClientAddress clientAddress;

  /**
   * @param localOperations operationId → handler for operations served on this node without the bus
   * @param extraRoutes     routes outside the contract (/openapi.yaml, /docs, /metrics)
   */
  public ApiVerticle(AppConfig config, Map<String, Handler<RoutingContext>> localOperations,
                     Consumer<Router> extraRoutes) {
    this.config = config;
    this.localOperations = localOperations;
    this.extraRoutes = extraRoutes;
  }

  @Override
  public Future<?> start() {
    JWTAuth jwt = TokenGate.guard(vertx, Jwt.provider(vertx, config.jwtSecret())); // revoked tokens too
    try {
      clientAddress = ClientAddress.fromSetting(config.string("trusted_proxies"));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    inFlight = new InFlightRequests(vertx, context);
    return inFlight.start().compose(v -> Contract.load(vertx)).compose(contract -> {
      RouterBuilder builder = RouterBuilder.create(vertx, new ValidatorCache(contract),
        RequestExtractor.withBodyHandler());
      builder.rootHandler(BodyHandler.create().setBodyLimit(1024 * 1024).setHandleFileUploads(false));
      builder.security("bearerAuth").httpHandler(JWTAuthHandler.create(jwt));
      for (OpenAPIRoute route : builder.getRoutes()) {
        String operationId = route.getOperation().getOperationId();
        route.addHandler(AccessLog.route(route.getOperation().getOpenAPIPath()));
        List<String> roles = roles(route);
        if (!roles.isEmpty()) {
          route.addHandler(rc -> requireRole(rc, roles));
        }
        route.addHandler(StorableTextCheck.of(route.getOperation()));
        Handler<RoutingContext> local = localOperations.get(operationId);
        route.addHandler(local != null ? local : rc -> forward(rc, operationId));
      }
      Router api = builder.createRouter();
      Router root = Router.router(vertx);
      // first: the request id and the access line, and HEAD answered as GET
      root.route().handler(AccessLog.handler(!"off".equals(config.string("access_log")), path -> {
        io.vertx.openapi.contract.Path template = contract.findPath(path);
        return template == null ? null : template.getName();
      }));
      // SIGTERM: while the balancer takes this node out of rotation, no connection stays open for it to reuse
      NodeLifecycle lifecycle = NodeLifecycle.of(vertx);
      root.route().handler(rc -> {
        if (lifecycle.draining()) {
          rc.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        rc.next();
      });
      root.route().handler(MalformedRequests::refuseBadQuery);
      Integer opsPort = config.opsPort();
      if (opsPort != null) {
        root.route().handler(OperatorsPort.guard(opsPort));
      }
      extraRoutes.accept(root);
      root.route().subRouter(api);
      root.route().last().handler(rc -> noRoute(rc, contract));
      root.route().failureHandler(this::onFailure);
      api.route().failureHandler(this::onFailure);
      Future<HttpServer> ops = opsPort == null ? Future.succeededFuture()
        : vertx.createHttpServer().requestHandler(root).listen(opsPort, config.httpHost())
          .onSuccess(s -> opsServer = s);
      return ops.compose(o -> vertx.createHttpServer()
        .requestHandler(root)
        .listen(config.integer("http_port"), config.httpHost()));
    }).onSuccess(s -> {
      server = s;
      log.info("HTTP API listening on port {}{}", s.actualPort(),
        opsServer == null ? "" : ", the operators' routes on port " + opsServer.actualPort() + " only");
    });
  }

  /** 405 with {@code Allow} when the path is in the contract under other methods, else 404. */
  private void noRoute(RoutingContext rc, OpenAPIContract contract) {
    String what = AccessLog.method(rc) + " " + rc.request().path(); // HEAD, not the GET it was tried as
    io.vertx.openapi.contract.Path path = contract.findPath(rc.request().path());
    if (path == null || path.getOperations().isEmpty()) {
      respondError(rc, Failure.notFound("No such route: " + what));
      return;
    }
    String allow = path.getOperations().stream().map(o -> o.getHttpMethod().name()).sorted()
      .collect(java.util.stream.Collectors.joining(", "));
    rc.response().putHeader("Allow", allow);
    respondError(rc, Failure.of(405, "Method not allowed: " + what + " (allowed: " + allow + ")"));
  }

  @SuppressWarnings("unchecked")
  private static List<String> roles(OpenAPIRoute route) {
    Object roles = route.getOperation().getExtensions().get("x-roles");
    if (roles instanceof JsonArray a) {
      return a.getList();
    }
    return roles instanceof List<?> l ? (List<String>) l : List.of();
  }

  private static void requireRole(RoutingContext rc, List<String> roles) {
    User user = rc.user();
    String role = user == null ? null : user.principal().getString("role");
    if (role == null || !roles.contains(role)) {
      respondError(rc, Failure.forbidden("This operation needs the role: " + String.join(" or ", roles)));
      return;
    }
    rc.next();
  }

  private void forward(RoutingContext rc, String operationId) {
    ValidatedRequest validated = rc.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
    JsonObject params = new JsonObject();
    if (validated != null) {
      validated.getPathParameters().forEach((k, v) -> params.put(k, v.get()));
      validated.getQuery().forEach((k, v) -> {
        if (v.get() != null) {
          params.put(k, v.get());
        }
      });
    }
    JsonObject request = new JsonObject()
      .put("operation", operationId)
      .put("params", params)
      .put("client_ip", clientAddress.of(rc.request()))
      .put("idempotency_key", rc.request().getHeader("Idempotency-Key")); // validated by the contract where declared
    if (validated != null && validated.getBody() != null && !validated.getBody().isNull()) {
      request.put("body", validated.getBody().get());
    }
    User user = rc.user();
    if (user != null) {
      request.put("user", new JsonObject().put("sub", user.principal().getString("sub"))
        .put("role", user.principal().getString("role")));
    }
    // the handler gets the budget (relative: node clocks differ) and answers 503 itself when it runs out; the edge
    // waits a grace longer, for a commit in flight, and answers 504 only when the handler could not answer at all
    long budget;
    try {
      budget = InFlightRequests.budget(rc.request().getHeader(InFlightRequests.BUDGET_HEADER),
        config.integer("request_timeout_ms"));
    } catch (Failure invalid) {
      respondError(rc, invalid);
      return;
    }
    inFlight.request(Bus.api(operationId), request, budget, config.integer("request_grace_ms"))
      .onSuccess(reply -> respond(rc, reply.body()))
      .onFailure(err -> {
        Failure error = ApiErrors.from(err, 500);
        if (err instanceof ReplyException re) {
          if (error.status() >= 500) {
            log.warn("operation {} answered {} to {}: {} ({})", operationId, error.status(), AccessLog.describe(rc),
              re.getMessage(), re.failureType());
          }
        } else if (err instanceof Failure f) {
          log.warn("operation {} answered {} to {}: {}", operationId, f.status(), AccessLog.describe(rc),
            f.error()); // e.g. its node left
        } else {
          log.error("operation {} failed for {}", operationId, AccessLog.describe(rc), err);
        }
        respondError(rc, error);
      });
  }

  private static void respond(RoutingContext rc, JsonObject reply) {
    HttpServerResponse response = rc.response().setStatusCode(reply.getInteger("status", 200));
    JsonObject headers = reply.getJsonObject("headers", new JsonObject());
    headers.forEach(h -> response.putHeader(h.getKey(), String.valueOf(h.getValue())));
    String next = reply.getString(Bus.ApiReply.NEXT_CURSOR);
    if (next != null) {
      response.putHeader("Link", NextLink.header(rc.request().path(), rc.queryParams(), next));
    }
    if (reply.containsKey("body_base64")) {
      response.end(Buffer.buffer(Base64.getDecoder().decode(reply.getString("body_base64"))));
    } else if (response.getStatusCode() == 204 || !reply.containsKey("body")) {
      response.end();
    } else {
      response.putHeader("Content-Type", "application/json").end(io.vertx.core.json.Json.encode(reply.getValue("body")));
    }
  }

  private void onFailure(RoutingContext rc) {
    Failure error = MalformedRequests.bearerWithoutToken(rc, ApiErrors.from(rc.failure(), rc.statusCode()));
    if (error.status() >= 500) {
      log.error("request {} failed", AccessLog.describe(rc), rc.failure());
    }
    respondError(rc, error);
  }

  public static void respondError(RoutingContext rc, Failure error) {
    if (rc.response().ended()) {
      return;
    }
    HttpServerResponse response = rc.response().setStatusCode(error.status())
      .putHeader("Content-Type", "application/json");
    JsonObject body = error.body();
    Object retryAfter = body.getValue("retry_after");
    if (retryAfter != null) {
      response.putHeader("Retry-After", String.valueOf(retryAfter));
    }
    if (error.status() == 401) {
      response.putHeader("WWW-Authenticate", "Bearer");
    }
    response.end(body.encode());
  }

  @Override
  public Future<?> stop() {
    if (inFlight != null) {
      inFlight.stop();
    }
    Future<Void> ops = opsServer == null ? Future.succeededFuture()
      : opsServer.shutdown(SHUTDOWN_GRACE_MS, TimeUnit.MILLISECONDS);
    Future<Void> api = server == null ? Future.succeededFuture()
      : server.shutdown(SHUTDOWN_GRACE_MS, TimeUnit.MILLISECONDS);
    return Future.join(ops, api);
  }
}
