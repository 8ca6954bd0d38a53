package dev.boxoffice.booking;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Booking log lines carry {@code booking_id} in the MDC (a JSON field with the default encoder). Event-loop code
 * hops threads, so the MDC is set around each line rather than per request. Never log payment data.
 */
final class BookingLog {
  private static final Logger log = LoggerFactory.getLogger("dev.boxoffice.booking");

  private BookingLog() {
  }

  /**
   * Every creation and transition logs here, thousands a second under load: DEBUG (an operator counts them in
   * {@code boxoffice_booking_transitions_total} instead), and nothing is built while DEBUG is off.
   */
  static void debug(long bookingId, String format, Object... args) {
    if (!log.isDebugEnabled()) {
      return;
    }
    try (MDC.MDCCloseable ignored = MDC.putCloseable("booking_id", Long.toString(bookingId))) {
      log.debug(format, args);
    }
  }

  static void warn(long bookingId, String format, Object... args) {
    if (!log.isWarnEnabled()) {
      return;
    }
    try (MDC.MDCCloseable ignored = MDC.putCloseable("booking_id", Long.toString(bookingId))) {
      log.warn(format, args);
    }
  }
}
