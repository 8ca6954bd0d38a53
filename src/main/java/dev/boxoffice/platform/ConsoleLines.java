package dev.boxoffice.platform;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/**
 * The console appender of logback.xml, with one exception: a line marked {@link #REHEARSAL} is encoded like every
 * other line and then dropped. A starting node's warm-up ({@code ops/WarmUp}) sends itself requests whose access
 * lines must not reach the log (they name requests nobody made), yet the encoder that writes those lines is a good
 * part of a request's cost once the node serves: encoding them is what lets the JIT compile it before readiness.
 */
public final class ConsoleLines extends ConsoleAppender<ILoggingEvent> {
  /** Marks a line to be encoded and never written. */
  public static final Marker REHEARSAL = MarkerFactory.getMarker("BOXOFFICE_REHEARSAL");

  @Override
  protected void subAppend(ILoggingEvent event) {
    if (!isStarted()) {
      return;
    }
    if (event.getMarkerList() != null && event.getMarkerList().contains(REHEARSAL)) {
      encoder.encode(event);
      return;
    }
    super.subAppend(event);
  }
}
