package dev.boxoffice.platform;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.function.Supplier;

/**
 * How work done once for many traced things at once is traced: a group commit of bookings, a batch of jobs handed
 * to one handler. The shared work (its statements, bus messages, log lines) runs under one span:
 * <ul>
 *   <li>a batch of one: a child of that one's span, in its trace, as if there were no batching;</li>
 *   <li>a batch of several: a new trace, whose span links to each member's span, and each member's span links back
 *       to it (OpenTelemetry's span links: a member's trace shows which batch carried it, the batch's trace which
 *       members it served). Parenting it to one member would put the shared work in that member's trace only.</li>
 * </ul>
 * What is each member's own (a booking's payment job, a job's e-mail) continues the member's trace, not the batch's.
 */
public final class BatchSpan {
  private BatchSpan() {
  }

  /**
   * Runs {@code work} under a batch span named {@code name} for {@code members} (their spans, null where a member is
   * not traced), on a duplicated context of its own. With tracing off, just runs it.
   */
  public static <T> Future<T> run(Vertx vertx, String name, List<Span> members, Supplier<Future<T>> work) {
    Tracing tracing = Tracing.of(vertx);
    if (!tracing.on()) {
      return work.get();
    }
    Span span = start(tracing, name, members);
    if (span == null) {
      return Traces.within(Traces.fresh(vertx), null, work); // nothing traced: no span, and none inherited
    }
    return Traces.within(Traces.fresh(vertx), Context.root().with(span), work)
      .onComplete(ar -> Traces.end(span, ar));
  }

  /** The batch span, or null when no member is traced. */
  static Span start(Tracing tracing, String name, List<Span> members) {
    Span only = null;
    int traced = 0;
    for (Span m : members) {
      if (m != null) {
        traced++;
        only = m;
      }
    }
    if (traced == 0) {
      return null;
    }
    SpanBuilder builder = tracing.tracer().spanBuilder(name).setSpanKind(SpanKind.INTERNAL)
      .setAttribute("boxoffice.batch.size", members.size());
    if (members.size() == 1) {
      return builder.setParent(Context.root().with(only)).startSpan();
    }
    builder.setNoParent();
    for (Span m : members) {
      if (m != null) {
        builder.addLink(m.getSpanContext());
      }
    }
    Span batch = builder.startSpan();
    for (Span m : members) {
      if (m != null) {
        m.addLink(batch.getSpanContext()); // a member whose span has ended ignores it
      }
    }
    return batch;
  }
}
