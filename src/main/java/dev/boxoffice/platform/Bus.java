package dev.boxoffice.platform;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The one place that names event-bus addresses and the shapes of the messages on them.
 *
 * <p>API requests: the HTTP verticle sends {@link #api(String)} for each contract operation a {@link ApiRequest}
 * JSON object and expects an {@link ApiReply} JSON object back, or a failure whose code is an HTTP status and
 * whose message is the error text (see {@link Failure#toReply()}).
 *
 * <p>Jobs: the engine sends each claimed job to {@link #jobRun(String)} on its own node.
 */
public final class Bus {
  private Bus() {
  }

  /** API operation address; the suffix is the operationId from openapi.yaml. */
  public static String api(String operationId) {
    return "api." + operationId;
  }

  /**
   * Where one HTTP edge instance hears which node is serving its slow requests: {@code {"node", "ids": [...]}}
   * (see {@code ApiReceipts}); {@code edgeInstance} is the edge's node id and an instance id.
   */
  public static String apiReceipts(String edgeInstance) {
    return "api.receipts." + edgeInstance;
  }

  /** Where a node's worker verticle for a job type listens (local consumer). */
  public static String jobRun(String type) {
    return "jobs.run." + type;
  }

  /**
   * Where a node's batch handler for a job type listens: {@code {"jobs": [job...]}} in, a reply of the shape of
   * {@code BatchResult} out. Used for saga steps that are cheaper as one transaction for many jobs.
   */
  public static String jobBatch(String type) {
    return "jobs.batch." + type;
  }

  /** Published when a node's job engine should claim now (e.g. after a local enqueue). */
  public static final String JOBS_WAKE = "jobs.wake";

  /**
   * Where a node's engine of {@code queue} takes jobs its own node inserted already leased to it (local consumer):
   * {@code {"jobs": [job...]}}, sent after the inserting transaction committed. See {@code JobHandoff}.
   */
  public static String jobsHandoff(String queue) {
    return "jobs.handoff." + queue;
  }

  /**
   * Published cluster-wide after an operator paused or resumed a queue: {@code {"queue", "paused"}}. Every node's
   * engine of that queue wakes (resume) or hands back the handed-off jobs it has not started (pause). Only for speed:
   * the claim reads the persisted state itself (see {@code QueueControls}).
   */
  public static final String JOBS_QUEUE_CONTROL = "jobs.queue.control";

  /**
   * Published cluster-wide after each committed batch of bookings: the earliest {@code expires_at} of the batch, as
   * a {@code Long} of epoch milliseconds, so that every node's hold expiry can arm its timer for it.
   */
  public static final String HOLDS_DUE = "bookings.holds.due";

  /**
   * Published cluster-wide after an account's password, role or disabled flag changed: its username, so that every
   * node's token check forgets what it knew of it and the account's older tokens are refused at their next use.
   */
  public static final String ACCOUNT_CHANGED = "accounts.changed";

  /**
   * The failure code of an API request a member did not take, because it is closing ({@link NodeLifecycle}): nothing
   * of it ran, so the edge sends it again, to another member. 421 is HTTP's "Misdirected Request"; it never reaches a
   * client (the edge answers 503 when no member takes the request).
   */
  public static final int NOT_TAKEN = 421;

  /**
   * True when no handler ran the request: a closing member refused it ({@link #NOT_TAKEN}), or no member had a
   * handler for its address. Safe to send again whatever the operation.
   */
  public static boolean notTaken(Throwable failure) {
    return failure instanceof ReplyException re && (re.failureType() == ReplyFailure.NO_HANDLERS
      || re.failureType() == ReplyFailure.RECIPIENT_FAILURE && re.failureCode() == NOT_TAKEN);
  }

  /**
   * Request: {@code {"operation", "params": {path and query values, typed}, "body": any, "user": {"sub","role"},
   * "idempotency_key": header or absent}}, plus {@code "budget_ms"}: how long the edge lets the cluster take,
   * relative (node clocks differ); the handler's node turns it into a {@link Deadline} on receipt ({@link #received}).
   * For the edge's receipts (see {@code ApiReceipts}): {@code "request_id"}, {@code "ack_to"}.
   */
  public record ApiRequest(JsonObject json) {
    /** Key of the relative budget the edge sends. */
    public static final String BUDGET_MS = "budget_ms";
    private static final String DEADLINE_NANOS = "deadline_nanos";

    /** The request as received on this node: its budget becomes a deadline on this node's clock. */
    public static ApiRequest received(JsonObject json) {
      Object budget = json.getValue(BUDGET_MS);
      if (budget instanceof Number n && !json.containsKey(DEADLINE_NANOS)) {
        json.put(DEADLINE_NANOS, Deadline.in(n.longValue()).atNanos());
      }
      return new ApiRequest(json);
    }

    /** When the edge stops waiting, on this node's clock; {@link Deadline#NONE} when the request carries no budget. */
    public Deadline deadline() {
      Long at = json.getLong(DEADLINE_NANOS);
      return at == null ? Deadline.NONE : new Deadline(at);
    }
    public JsonObject params() {
      return json.getJsonObject("params", new JsonObject());
    }

    public JsonObject body() {
      Object body = json.getValue("body");
      return body instanceof JsonObject o ? o : new JsonObject();
    }

    public Long pathId(String name) {
      Object v = params().getValue(name);
      return v instanceof Number n ? n.longValue() : v == null ? null : Long.valueOf(v.toString());
    }

    public String user() {
      JsonObject u = json.getJsonObject("user");
      return u == null ? null : u.getString("sub");
    }

    /** The raw {@code Idempotency-Key} header, or null; see {@link IdempotencyKeys}. */
    public String idempotencyKey() {
      return json.getString("idempotency_key");
    }

    public boolean isAdmin() {
      JsonObject u = json.getJsonObject("user");
      return u != null && "admin".equals(u.getString("role"));
    }

    public int limit() {
      return params().getInteger("limit", 20);
    }

    public int offset() {
      return params().getInteger("offset", 0);
    }
  }

  /**
   * Reply: {@code {"status": 200, "body": any, "headers": {...}}} (a page adds {@code "next_cursor"}); binary
   * bodies travel as {@code body_base64}.
   */
  public static final class ApiReply {
    /**
     * A page's reply may carry the next page's cursor under this key (beside {@code status}, not in the body): the
     * edge, which alone knows the request's path and query, turns it into the {@code Link: <...>; rel="next"} header.
     */
    public static final String NEXT_CURSOR = "next_cursor";

    private ApiReply() {
    }

    public static JsonObject of(int status, Object body) {
      return new JsonObject().put("status", status).put("body", body);
    }

    public static JsonObject ok(Object body) {
      return of(200, body);
    }

    public static JsonObject list(JsonArray items, long total) {
      return of(200, items).put("headers", new JsonObject().put("X-Total-Count", String.valueOf(total)));
    }

    public static JsonObject binary(String contentType, byte[] bytes, String fileName) {
      return new JsonObject().put("status", 200)
        .put("body_base64", java.util.Base64.getEncoder().encodeToString(bytes))
        .put("headers", new JsonObject().put("Content-Type", contentType)
          .put("Content-Disposition", "inline; filename=\"" + fileName + "\""));
    }

    public static JsonObject noContent() {
      return new JsonObject().put("status", 204);
    }
  }
}
