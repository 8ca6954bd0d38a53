package dev.boxoffice.platform;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.core.JsonGenerator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import net.logstash.logback.composite.AbstractJsonProvider;

import java.io.IOException;

/**
 * {@code trace_id} and {@code span_id} on every JSON log line written inside a trace (logback.xml adds it to the
 * encoder). They are read from the current span when the line is encoded, which the console appender does on the
 * thread that logs, on its Vert.x context: the span of the request, message or job being handled there (see
 * {@link Traces}). An asynchronous appender would encode elsewhere and lose them. Nothing is read while tracing is off.
 */
public final class TraceLogFields extends AbstractJsonProvider<ILoggingEvent> {
  @Override
  public void writeTo(JsonGenerator generator, ILoggingEvent event) throws IOException {
    if (!Traces.on()) {
      return;
    }
    SpanContext span = Span.current().getSpanContext();
    if (span.isValid()) {
      generator.writeStringField("trace_id", span.getTraceId());
      generator.writeStringField("span_id", span.getSpanId());
    }
  }
}
