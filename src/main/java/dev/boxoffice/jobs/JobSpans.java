package dev.boxoffice.jobs;

import dev.boxoffice.platform.Traces;
import dev.boxoffice.platform.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;

/**
 * The span of one job attempt: named {@code job <type>}, a child of the span that enqueued the job (the row's
 * {@code traceparent}: the request, or the attempt of the step before), started when the engine hands the attempt to
 * its handler and ended with its outcome. So a booking's trace reads request → payment attempt(s) → finalization
 * attempt(s) → e-mail, whichever nodes claimed them and however long the jobs waited. A job enqueued outside any trace
 * (cron, maintenance) gets no span: tracing follows requests, it does not start traces of its own.
 */
final class JobSpans {
  private final Tracing tracing;

  JobSpans(Tracing tracing) {
    this.tracing = tracing;
  }

  boolean on() {
    return tracing.on();
  }

  /** The attempt's span, started; null when tracing is off or the job was enqueued outside a trace. */
  Span start(Job job) {
    if (!tracing.on()) {
      return null;
    }
    Context parent = Traces.context(job.trace());
    if (parent == null) {
      return null;
    }
    return tracing.tracer().spanBuilder("job " + job.type()).setParent(parent).setSpanKind(SpanKind.CONSUMER)
      .setAttribute("messaging.system", "boxoffice.jobs")
      .setAttribute("messaging.destination.name", job.type())
      .setAttribute("messaging.operation.type", "process")
      .setAttribute("boxoffice.job.id", job.id().toString())
      .setAttribute("boxoffice.job.attempt", job.attempt())
      .setAttribute("boxoffice.job.max_attempts", job.maxAttempts())
      .setAttribute("boxoffice.node", String.valueOf(job.node()))
      .startSpan();
  }

  /** The job as its handler gets it: carrying its attempt's span when it has one, else no trace at all. */
  static Job handed(Job job, Span attempt) {
    if (attempt == null) {
      return job.trace() == null ? job : job.withTrace(null);
    }
    return job.withTrace(Traces.traceparent(attempt.getSpanContext()));
  }

  static void succeeded(Span attempt) {
    if (attempt != null) {
      attempt.setAttribute("boxoffice.job.outcome", "succeeded");
      attempt.end();
    }
  }

  /** {@code dies}: permanent, or the last attempt: the job goes dead (else it is retried). */
  static void failed(Span attempt, String error, boolean dies) {
    if (attempt != null) {
      attempt.setAttribute("boxoffice.job.outcome", dies ? "dead" : "retry");
      attempt.setStatus(StatusCode.ERROR, error == null ? "" : error);
      attempt.end();
    }
  }
}
