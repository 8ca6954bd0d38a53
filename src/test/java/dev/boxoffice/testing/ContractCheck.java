package dev.boxoffice.testing;

import dev.boxoffice.http.Contract;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.impl.ClientPhase;
import io.vertx.ext.web.client.impl.HttpContext;
import io.vertx.ext.web.client.impl.WebClientInternal;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.contract.Response;
import io.vertx.openapi.impl.Utils;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatableResponse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks every response a test receives against openapi.yaml, so that the contract and the code cannot drift: the
 * status must be declared for the operation, the content type among the ones declared for that status, and a JSON
 * body must match its schema (with the declared headers), through vertx-openapi's {@link ResponseValidator}. A
 * mismatch fails the request's future, hence the test, naming what differs. Responses the validator cannot read
 * (the HTML pages, the PDF ticket) are checked for status and content type; so are the routes the contract leaves
 * out on purpose ({@code /openapi.yaml}, {@code /docs}, {@code /metrics}) and the JSON error of a route that does not
 * exist. The counts are printed at the end of the run by {@link ContractSummary}.
 */
public final class ContractCheck {
  /** Routes outside the contract by design (the SPEC's OpenAPI rule). */
  private static final List<String> OUTSIDE = List.of("/openapi.yaml", "/metrics", "/docs");

  static final AtomicLong VALIDATED = new AtomicLong();
  static final AtomicLong STATUS_AND_TYPE = new AtomicLong();
  static final List<String> MISMATCHES = new CopyOnWriteArrayList<>();

  /** The contract, read once for the whole run (by the first node's Vert.x; it keeps no reference to it). */
  private static volatile ContractCheck loaded;
  private static Future<ContractCheck> loading;

  private final OpenAPIContract contract;
  private final JsonObject raw;

  private ContractCheck(JsonObject raw, OpenAPIContract contract) {
    this.raw = raw;
    this.contract = contract;
  }

  /** Makes {@code client} check every response it receives; returns it. */
  public static WebClient install(Vertx vertx, WebClient client) {
    ((WebClientInternal) client).addInterceptor(ctx -> intercept(vertx, ctx));
    return client;
  }

  private static void intercept(Vertx vertx, HttpContext<?> ctx) {
    if (ctx.phase() != ClientPhase.DISPATCH_RESPONSE) {
      ctx.next();
      return;
    }
    HttpMethod method = ctx.request().method();
    String uri = ctx.request().uri();
    HttpResponse<?> response = ctx.response();
    Buffer body = response.body() instanceof Buffer b ? b : null;
    of(vertx).compose(check -> check.check(vertx, method, uri, response, body)).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.next();
      } else {
        String mismatch = method + " " + uri + " → " + response.statusCode() + ": " + ar.cause().getMessage();
        MISMATCHES.add(mismatch);
        ctx.fail(new AssertionError("response does not match openapi.yaml: " + mismatch, ar.cause()));
      }
    });
  }

  private static Future<ContractCheck> of(Vertx vertx) {
    ContractCheck check = loaded;
    if (check != null) {
      return Future.succeededFuture(check); // no context: what follows runs on the caller's thread
    }
    synchronized (ContractCheck.class) {
      if (loading == null || loading.failed()) {
        loading = Utils.readYamlOrJson(vertx, Contract.FILE)
          .compose(raw -> OpenAPIContract.from(vertx, Contract.forVertx(raw)).map(c -> new ContractCheck(raw, c)))
          .onSuccess(c -> loaded = c);
      }
      return loading;
    }
  }

  private Future<Void> check(Vertx vertx, HttpMethod method, String uri, HttpResponse<?> response, Buffer body) {
    String path = uri.split("[?#]", 2)[0];
    int status = response.statusCode();
    String mediaType = mediaType(response.getHeader("Content-Type"));
    if (method == HttpMethod.HEAD) {
      return head(path, status, mediaType, body);
    }
    Operation operation = contract.findOperation(path, method);
    if (operation == null) {
      return outsideTheContract(method, path, status, mediaType, body);
    }
    Response declared = operation.getResponse(status);
    if (declared == null) {
      declared = operation.getDefaultResponse();
    }
    if (declared == null) {
      return fail("status " + status + " is not declared for " + operation.getOperationId() + " (body: "
        + text(body) + ")");
    }
    Set<String> types = declaredTypes(operation, status);
    if (types.isEmpty()) {
      if (body != null && body.length() > 0) {
        return fail("a body (" + mediaType + ") where " + operation.getOperationId() + " " + status + " declares none");
      }
      VALIDATED.incrementAndGet();
      return Future.succeededFuture();
    }
    if (!types.contains(mediaType)) {
      return fail("content type " + mediaType + " is not among " + types + " declared for "
        + operation.getOperationId() + " " + status);
    }
    if (body == null || body.length() == 0) {
      return fail("no body where " + operation.getOperationId() + " " + status + " declares " + types);
    }
    if (!declared.getContent().containsKey(mediaType)) { // HTML, PDF: vertx-openapi cannot read them
      STATUS_AND_TYPE.incrementAndGet();
      return Future.succeededFuture();
    }
    Map<String, String> headers = new HashMap<>();
    for (Parameter header : declared.getHeaders()) {
      String value = response.getHeader(header.getName());
      if (value != null) {
        headers.put(header.getName(), readable(header, value));
      }
    }
    ValidatableResponse validatable = ValidatableResponse.create(status, headers, body, mediaType);
    return ResponseValidator.create(vertx, contract).validate(validatable, operation.getOperationId())
      .<Void>mapEmpty()
      .recover(err -> fail(operation.getOperationId() + " " + status + ": " + reason(err) + " (body: " + text(body)
        + ")"))
      .onSuccess(v -> VALIDATED.incrementAndGet());
  }

  /**
   * vertx-openapi reads a string header that is not JSON by quoting it, which breaks on a value holding a quote
   * ({@code Link: <...>; rel="next"}): such a value goes in as the JSON string it is, and is validated unchanged.
   */
  private static String readable(Parameter header, String value) {
    return header.getSchemaType() == io.vertx.json.schema.common.dsl.SchemaType.STRING && value.indexOf('"') >= 0
      ? Json.encode(value) : value;
  }

  /**
   * HEAD is answered wherever GET is (HTTP semantics, not an operation of the contract): the GET's status must be
   * declared and no body sent; a HEAD where no GET is served is a JSON-less 405 or 404.
   */
  private Future<Void> head(String path, int status, String mediaType, Buffer body) {
    if (body != null && body.length() > 0) {
      return fail("a body in the answer to HEAD " + path);
    }
    Operation get = contract.findOperation(path, HttpMethod.GET);
    if (get == null) {
      boolean outside = OUTSIDE.stream().anyMatch(p -> path.equals(p) || path.startsWith(p + "/"));
      if (status == 404 || status == 405 || outside) {
        STATUS_AND_TYPE.incrementAndGet();
        return Future.succeededFuture();
      }
      return fail("HEAD " + path + " answered " + status + " where no GET is served");
    }
    if (get.getResponse(status) == null && get.getDefaultResponse() == null) {
      return fail("status " + status + " to HEAD is not declared for " + get.getOperationId());
    }
    STATUS_AND_TYPE.incrementAndGet();
    return Future.succeededFuture();
  }

  /** The published routes outside the contract, and the JSON error of a route that does not exist. */
  private Future<Void> outsideTheContract(HttpMethod method, String path, int status, String mediaType, Buffer body) {
    if (OUTSIDE.stream().anyMatch(p -> path.equals(p) || path.startsWith(p + "/"))) {
      STATUS_AND_TYPE.incrementAndGet();
      return Future.succeededFuture();
    }
    if ((status == 404 || status == 405) && "application/json".equals(mediaType) && isError(body)) {
      STATUS_AND_TYPE.incrementAndGet();
      return Future.succeededFuture();
    }
    return fail("no operation of openapi.yaml serves " + method + " " + path + " (status " + status + ", body: "
      + text(body) + ")");
  }

  /** The media types the published contract declares for the status (vertx-openapi's copy lacks HTML and PDF). */
  private Set<String> declaredTypes(Operation operation, int status) {
    JsonObject responses = raw.getJsonObject("paths").getJsonObject(operation.getOpenAPIPath())
      .getJsonObject(operation.getHttpMethod().name().toLowerCase()).getJsonObject("responses");
    JsonObject response = responses.getJsonObject(String.valueOf(status), responses.getJsonObject("default"));
    String ref = response.getString("$ref");
    if (ref != null) {
      response = raw.getJsonObject("components").getJsonObject("responses")
        .getJsonObject(ref.substring(ref.lastIndexOf('/') + 1));
    }
    return response.getJsonObject("content", new JsonObject()).fieldNames();
  }

  private static boolean isError(Buffer body) {
    try {
      return body != null && Json.decodeValue(body) instanceof JsonObject o && o.getValue("error") instanceof String;
    } catch (DecodeException e) {
      return false;
    }
  }

  private static String mediaType(String contentType) {
    return contentType == null ? null : contentType.split(";", 2)[0].trim().toLowerCase();
  }

  private static String reason(Throwable err) {
    if (err instanceof SchemaValidationException e && e.getOutputUnit() != null) {
      return e.getMessage() + " " + e.getOutputUnit().getErrors();
    }
    return err.getMessage();
  }

  private static String text(Buffer body) {
    if (body == null) {
      return "none";
    }
    String s = body.toString();
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  private static Future<Void> fail(String message) {
    return Future.failedFuture(new AssertionError(message));
  }
}
