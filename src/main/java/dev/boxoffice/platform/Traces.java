package dev.boxoffice.platform;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.tracing.opentelemetry.VertxContextStorageProvider.VertxContextStorage;

import java.util.function.Supplier;

/**
 * The trace context as boxoffice's own code handles it: captured where work is handed on (a job row, a booking in
 * a group commit) and restored where it continues. A trace context travels as a W3C {@code traceparent}
 * ({@code 00-<trace id>-<span id>-<flags>}); the trace state is not kept.
 *
 * <p>Vert.x contexts are not threads: the current span lives on the Vert.x context (the vertx-opentelemetry module's
 * context storage keeps it in a context local of the duplicated context each request and message runs on), so
 * {@link Span#current()} is right inside any handler, and work started elsewhere runs on a duplicated context of its
 * own with its span attached ({@link #fresh}, {@link #within}).
 *
 * <p>Every method is a plain check of one flag while no node of this JVM traces: nothing is read or allocated.
 */
public final class Traces {
  private static volatile boolean on;

  private Traces() {
  }

  /** A node of this JVM traces (set once, by its {@link Tracing}). */
  static void enable() {
    on = true;
  }

  /** Whether any node of this JVM traces; false means every other method here is a no-op. */
  public static boolean on() {
    return on;
  }

  /** The current span's {@code traceparent}, or null: tracing off, or no trace here. */
  public static String current() {
    if (!on) {
      return null;
    }
    SpanContext span = Span.current().getSpanContext();
    return span.isValid() ? traceparent(span) : null;
  }

  /** The current span when it belongs to a trace, else null (and null, unread, when tracing is off). */
  public static Span currentSpan() {
    if (!on) {
      return null;
    }
    Span span = Span.current();
    return span.getSpanContext().isValid() ? span : null;
  }

  /**
   * Where a member of a batch came from (a request waiting for a group commit): its span, for the batch to link to,
   * and its Vert.x context, so that its answer continues there, in its own trace (the log line it writes carries its
   * own trace id, not the batch's).
   */
  public record Origin(Span span, ContextInternal context) {
    /** Completes {@code promise} on the member's own context (now, on this thread: the same event loop). */
    public <T> void complete(Promise<T> promise, T value) {
      if (context == null || !context.nettyEventLoop().inEventLoop()) {
        promise.tryComplete(value);
      } else {
        context.dispatch(value, promise::tryComplete);
      }
    }
  }

  /** The current span and context, when tracing is on and this runs in a trace; else null (nothing allocated). */
  public static Origin origin() {
    Span span = currentSpan();
    return span == null ? null : new Origin(span, ContextInternal.current());
  }

  /** The current OpenTelemetry context when it holds a span of a trace; else null (unread while tracing is off). */
  public static Context currentContext() {
    return currentSpan() == null ? null : Context.current();
  }

  public static String traceparent(SpanContext span) {
    return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getTraceFlags().asHex();
  }

  /** The span context a {@code traceparent} names, as a remote parent; null when absent or malformed. */
  public static SpanContext parse(String traceparent) {
    if (traceparent == null || traceparent.length() != 55 || !traceparent.startsWith("00-")
      || traceparent.charAt(35) != '-' || traceparent.charAt(52) != '-') {
      return null;
    }
    String flags = traceparent.substring(53);
    if (!isHex(flags)) {
      return null;
    }
    SpanContext span = SpanContext.createFromRemoteParent(traceparent.substring(3, 35),
      traceparent.substring(36, 52), TraceFlags.fromHex(flags, 0), TraceState.getDefault());
    return span.isValid() ? span : null;
  }

  /** The OpenTelemetry context whose parent span {@code traceparent} names; null when it names none. */
  public static Context context(String traceparent) {
    SpanContext span = parse(traceparent);
    return span == null ? null : Context.root().with(Span.wrap(span));
  }

  /**
   * A duplicated context of the event loop {@code vertx} runs this code on, with no span of its own: for work that
   * belongs to no request the current context may be serving (a job, a batch), so that the span it attaches does not
   * leak into, or inherit from, that request.
   */
  public static ContextInternal fresh(Vertx vertx) {
    return ((ContextInternal) vertx.getOrCreateContext()).unwrap().duplicate();
  }

  /**
   * Runs {@code work} now, on this thread, with {@code on} as the current Vert.x context and {@code trace} (when not
   * null) as its current OpenTelemetry context, until the future {@code work} returns completes: Vert.x's tracing of
   * what it starts (bus messages, statements) and every log line written meanwhile on {@code on} see that span. Then
   * the span is detached, so that what the callbacks of the returned future start (bookkeeping shared by many, such
   * as the job engine's outcome writes) is not counted in it.
   */
  public static <T> Future<T> within(ContextInternal on, Context trace, Supplier<Future<T>> work) {
    Scope scope = trace == null ? null : VertxContextStorage.INSTANCE.attach(on, trace);
    Promise<T> result = Promise.promise();
    on.dispatch(v -> {
      Future<T> outcome;
      try {
        outcome = work.get();
      } catch (RuntimeException e) {
        outcome = Future.failedFuture(e);
      }
      outcome.onComplete(ar -> {
        if (scope != null) {
          scope.close();
        }
        result.handle(ar);
      });
    });
    return result.future();
  }

  /** Ends {@code span} with the outcome of {@code outcome} (an error status and the exception when it failed). */
  public static void end(Span span, AsyncResult<?> outcome) {
    if (outcome.failed()) {
      fail(span, outcome.cause());
    }
    span.end();
  }

  /** Marks {@code span} failed with {@code err} (not ended). */
  public static void fail(Span span, Throwable err) {
    span.setStatus(StatusCode.ERROR, String.valueOf(err.getMessage()));
    span.recordException(err);
  }

  /** Runs {@code action} with {@code span} current on this thread's Vert.x context (a log line written there). */
  public static void inSpan(Context trace, Runnable action) {
    if (trace == null) {
      action.run();
      return;
    }
    try (Scope ignored = trace.makeCurrent()) {
      action.run();
    }
  }

  private static boolean isHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }
}
