package dev.boxoffice.platform;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;

/**
 * {@code %trace} in the text log pattern: {@code " trace_id=... span_id=..."} inside a trace, else nothing; read as
 * {@link TraceLogFields} reads them.
 */
public final class TraceLogText extends ClassicConverter {
  @Override
  public String convert(ILoggingEvent event) {
    if (!Traces.on()) {
      return "";
    }
    SpanContext span = Span.current().getSpanContext();
    return span.isValid() ? " trace_id=" + span.getTraceId() + " span_id=" + span.getSpanId() : "";
  }
}
