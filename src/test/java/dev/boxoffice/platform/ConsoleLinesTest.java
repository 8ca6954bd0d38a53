package dev.boxoffice.platform;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The console appender writes every line but a rehearsal, which it encodes all the same. */
class ConsoleLinesTest {
  private final LoggerContext context = new LoggerContext();

  @Test
  void aRehearsalLineIsEncodedAndNotWritten() {
    context.setMDCAdapter(new LogbackMDCAdapter());
    AtomicInteger encoded = new AtomicInteger();
    PatternLayoutEncoder encoder = new PatternLayoutEncoder() {
      @Override
      public byte[] encode(ILoggingEvent event) {
        encoded.incrementAndGet();
        return super.encode(event);
      }
    };
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
    encoder.start();
    ConsoleLines appender = new ConsoleLines();
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream console = System.out; // the appender writes to whatever System.out is at the time
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      appender.doAppend(event("served GET /events", null));
      appender.doAppend(event("rehearsed POST /bookings", ConsoleLines.REHEARSAL));
      appender.doAppend(event("served GET /bookings", null));
    } finally {
      System.setOut(console);
      appender.stop();
    }

    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("served GET /events\nserved GET /bookings\n");
    assertThat(encoded).hasValue(3);
  }

  private LoggingEvent event(String message, org.slf4j.Marker marker) {
    LoggingEvent event = new LoggingEvent(ConsoleLinesTest.class.getName(), context.getLogger("boxoffice.access"),
      Level.INFO, message, null, null);
    if (marker != null) {
      event.addMarker(marker);
    }
    return event;
  }
}
