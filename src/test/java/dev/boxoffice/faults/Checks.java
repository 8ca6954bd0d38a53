package dev.boxoffice.faults;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What must hold after every scenario, read straight from the database and the SMTP sink: nothing accepted is lost,
 * nothing is oversold, the counters agree with the bookings, each finalized booking has one ticket, one outbox row
 * and one e-mail, and no hold outlives its expiry.
 */
final class Checks {
  static final String FINAL_BOOKING = "('finalized','cancelled','expired')";
  static final String HOLDING = "('pending','payment_processed','confirmed','finalized')";

  /** Live jobs of the kinds the load creates (saga steps, ticket e-mails, text tasks). */
  private static final String LIVE_WORK = """
    SELECT count(*) FROM jobs WHERE status IN ('scheduled','queued','running','failed')
      AND (type LIKE 'booking.%' OR type = 'text.process')""";

  private static final String OPEN_BOOKINGS = "SELECT count(*) FROM bookings WHERE status NOT IN " + FINAL_BOOKING;

  private static final String EVENTS = """
    SELECT e.id, e.capacity, e.booked, coalesce(f.finalized, 0) AS finalized,
           coalesce(sum(b.quantity) FILTER (WHERE b.status IN %s), 0) AS holding,
           coalesce(sum(b.quantity) FILTER (WHERE b.status = 'finalized'), 0) AS fin
    FROM events e LEFT JOIN event_finalized f ON f.event_id = e.id LEFT JOIN bookings b ON b.event_id = e.id
    GROUP BY e.id, f.finalized""".formatted(HOLDING);

  private static final String PRODUCTS = """
    SELECT p.id, p.quantity, coalesce(sum(b.quantity) FILTER (WHERE b.status IN %s), 0) AS holding
    FROM products p LEFT JOIN bookings b ON b.product_id = p.id
    GROUP BY p.id""".formatted(HOLDING);

  private Checks() {
  }

  /** How settling went: whether everything reached a final state in time, and how long it took. */
  record Settled(boolean done, double seconds, String left) {
  }

  /**
   * Waits until every accepted booking and task is final, no booking at all is open and no saga, e-mail or task job
   * is live (so every expiry has fired and every e-mail has gone). Database errors count as "not yet".
   */
  static Settled awaitSettled(Db db, Set<Long> bookings, Set<String> tasks, long limitMs) {
    long start = System.currentTimeMillis();
    String left = "";
    while (true) {
      try {
        long openAccepted = bookings.isEmpty() ? 0 : db.scalar("SELECT count(*) FROM bookings WHERE id = ANY(?) "
          + "AND status NOT IN " + FINAL_BOOKING, (Object) Db.longs(bookings));
        long openTasks = tasks.isEmpty() ? 0 : db.scalar("SELECT count(*) FROM jobs WHERE id = ANY(?) "
          + "AND status NOT IN ('succeeded','dead','cancelled')", (Object) Db.uuids(tasks));
        long open = db.scalar(OPEN_BOOKINGS);
        long live = db.scalar(LIVE_WORK);
        left = "open accepted bookings " + openAccepted + ", open accepted tasks " + openTasks
          + ", open bookings " + open + ", live saga/mail/task jobs " + live;
        if (openAccepted == 0 && openTasks == 0 && open == 0 && live == 0) {
          return new Settled(true, (System.currentTimeMillis() - start) / 1000.0, "");
        }
      } catch (IllegalStateException e) {
        left = "database: " + e.getMessage();
      }
      if (System.currentTimeMillis() - start > limitMs) {
        return new Settled(false, (System.currentTimeMillis() - start) / 1000.0, left);
      }
      NodeProcess.sleep(250);
    }
  }

  /**
   * The checks every scenario shares, on the bookings created since {@code firstBookingId} (accepted or not: a
   * request that timed out may still have committed) and on every event and product.
   */
  static void common(Outcome o, Db db, MailSink mail, Load load, Map<Long, Integer> productStock,
                     long firstBookingId, Crash crash) {
    common(o, db, mail, load, productStock, firstBookingId, crash, false);
  }

  /**
   * {@code copiesAllowed}: a second copy of one message (one Message-ID: the same outbox row sent again by the job's
   * next attempt, after a node lost its lease mid-send) is counted as {@code same_message_copies}, not a violation;
   * two different messages for one booking still are. For faults where the SPEC promises only that (partitions).
   */
  static void common(Outcome o, Db db, MailSink mail, Load load, Map<Long, Integer> productStock,
                     long firstBookingId, Crash crash, boolean copiesAllowed) {
    // accepted work: present and final
    long bookingsFinal = load.bookings.isEmpty() ? 0 : db.scalar("SELECT count(*) FROM bookings WHERE id = ANY(?) "
      + "AND status IN " + FINAL_BOOKING, (Object) Db.longs(load.bookings));
    long tasksFinal = load.tasks.isEmpty() ? 0 : db.scalar("SELECT count(*) FROM jobs WHERE id = ANY(?) "
      + "AND status IN ('succeeded','dead')", (Object) Db.uuids(load.tasks));
    long accepted = load.accepted();
    long fin = bookingsFinal + tasksFinal;
    o.put("accepted", accepted).put("final", fin).put("lost", accepted - fin);
    o.require(accepted > 0, "no request was accepted");
    o.require(fin == accepted, "%d accepted item(s) missing or not final", accepted - fin);

    // oversell and counter consistency, on every item
    int oversold = 0;
    int inconsistent = 0;
    for (Map<String, Object> e : db.rows(EVENTS)) {
      long capacity = num(e, "capacity");
      long booked = num(e, "booked");
      long holding = num(e, "holding");
      if (booked > capacity || holding > capacity) {
        oversold++;
        o.violations.add("event " + e.get("id") + " oversold: capacity " + capacity + ", booked " + booked
          + ", held by bookings " + holding);
      }
      if (booked != holding || num(e, "finalized") != num(e, "fin")) {
        inconsistent++;
        o.violations.add("event " + e.get("id") + " counters disagree with bookings: " + e);
      }
    }
    for (Map<String, Object> p : db.rows(PRODUCTS)) {
      long id = num(p, "id");
      Integer initial = productStock.get(id);
      long quantity = num(p, "quantity");
      long holding = num(p, "holding");
      if (quantity < 0 || (initial != null && holding > initial)) {
        oversold++;
        o.violations.add("product " + id + " oversold: stock " + initial + ", left " + quantity + ", held " + holding);
      }
      if (initial != null && initial - quantity != holding) {
        inconsistent++;
        o.violations.add("product " + id + " quantity disagrees with bookings: stock " + initial + ", left "
          + quantity + ", held by bookings " + holding);
      }
    }
    o.put("oversold", oversold);

    // tickets, outbox rows and e-mails of this scenario's bookings
    List<Map<String, Object>> bookings = db.rows("""
      SELECT b.id, b.status,
             (SELECT count(*) FROM outbox x WHERE x.booking_id = b.id) AS outbox,
             (SELECT count(*) FROM outbox x WHERE x.booking_id = b.id AND x.status = 'sent') AS sent,
             (SELECT count(*) FROM tickets t WHERE t.booking_id = b.id) AS tickets,
             (SELECT extract(epoch FROM max(x.sent_at)) * 1000 FROM outbox x WHERE x.booking_id = b.id) AS sent_at
      FROM bookings b WHERE b.id >= ?""", firstBookingId);
    Map<Long, List<MailSink.Received>> messages = mail.messages();
    Map<Long, List<Long>> mails = new java.util.HashMap<>();
    messages.forEach((id, copies) -> mails.put(id, copies.stream().map(MailSink.Received::at).toList()));
    List<Long> lags = new java.util.ArrayList<>();
    int finalized = 0;
    int duplicates = 0;
    int resent = 0;
    int copies = 0;
    int missingMail = 0;
    int badRows = 0;
    for (Map<String, Object> b : bookings) {
      long id = num(b, "id");
      List<Long> arrivals = mails.getOrDefault(id, List.of());
      int received = arrivals.size();
      if (received > 0 && b.get("sent_at") != null) {
        // from the SMTP server having the message to the outbox row saying so: the duplicate window of a crash
        lags.add(((Number) b.get("sent_at")).longValue() - java.util.Collections.min(arrivals));
      }
      if ("finalized".equals(b.get("status"))) {
        finalized++;
        if (num(b, "outbox") != 1 || num(b, "tickets") != 1 || num(b, "sent") != 1) {
          badRows++;
          o.violations.add("finalized booking " + id + " has " + b.get("outbox") + " outbox row(s) ("
            + b.get("sent") + " sent) and " + b.get("tickets") + " ticket(s)");
        }
        if (received == 0) {
          missingMail++;
        }
      } else if (num(b, "outbox") + num(b, "tickets") > 0 || received > 0) {
        badRows++;
        o.violations.add(b.get("status") + " booking " + id + " has a ticket, outbox row or e-mail: " + b
          + ", e-mails " + received);
      }
      if (received > 1) {
        List<Map<String, Object>> sends = db.rows("""
          SELECT x.id, x.status, x.attempts, x.last_error, j.status AS job, j.attempts AS job_attempts,
                 j.locked_by, j.last_error AS job_error
          FROM outbox x LEFT JOIN jobs j ON j.id = x.job_id WHERE x.booking_id = ?""", id);
        // copies of one message (the outbox row's Message-ID) are one message for the receiver; two ids are two
        List<String> ids = messages.get(id).stream().map(MailSink.Received::messageId).distinct().toList();
        boolean oneMessage = ids.size() == 1 && ids.get(0) != null;
        if (crash != null && resentAfterCrash(crash, arrivals, sends) && oneMessage) {
          resent++;
          FaultHarness.progress("%s: booking %d: e-mail re-sent after the kill (first copy %+d ms from it): %s",
            o.name, id, java.util.Collections.min(arrivals) - crash.at(), sends);
        } else if (copiesAllowed && oneMessage) {
          copies++;
        } else {
          duplicates++;
          o.violations.add("booking " + id + " got " + received + " e-mails (Message-IDs " + ids + "); its outbox row "
            + "and the job that wrote it: " + sends);
        }
      }
    }
    o.put("duplicate_emails", duplicates);
    if (copiesAllowed) {
      o.put("same_message_copies", copies);
    }
    if (crash != null) {
      o.put("resent_after_crash", resent);
      o.require(!crash.strictEmail() || resent == 0, "%d e-mail(s) re-sent after the kill (strict e-mail mode)",
        resent);
    }
    o.require(missingMail == 0, "%d finalized booking(s) got no e-mail", missingMail);
    o.require(!mails.containsKey(-1L), "%d e-mail(s) without a booking reference",
      mails.getOrDefault(-1L, List.of()).size());

    // holds that outlived their expiry (the expiry did not fire), work that died
    long overdue = db.scalar("SELECT count(*) FROM bookings WHERE status IN ('pending','payment_processed') "
      + "AND expires_at < now() - interval '2 seconds'");
    long dead = db.scalar("SELECT count(*) FROM jobs WHERE status = 'dead' AND (type LIKE 'booking.%' "
      + "OR type = 'text.process') AND created_at >= (SELECT coalesce(min(created_at), now()) "
      + "FROM bookings WHERE id >= ?)", firstBookingId);
    o.require(overdue == 0, "%d booking(s) still hold stock after expires_at", overdue);
    o.require(dead == 0, "%d saga/e-mail/task job(s) dead", dead);
    o.require(inconsistent == 0, "%d item(s) with counters that disagree with their bookings", inconsistent);
    o.require(badRows == 0, "%d booking(s) with wrong ticket/outbox rows", badRows);
    o.require(load.unexpected.get() == 0, "%d unexpected response(s), e.g. %s", load.unexpected.get(),
      load.unexpectedSamples);

    o.put("bookings", load.bookings.size()).put("tasks", load.tasks.size()).put("finalized", finalized)
      .put("refused_409", load.conflicts.get())
      .put("failed_requests", load.serverErrors.get() + load.transportErrors.get() + load.keyConflicts.get())
      .put("inconsistent", inconsistent).put("missing_emails", missingMail);
    lags.sort(null);
    o.put("mail_commit_lag_ms", lags.isEmpty() ? "-" : "p50:" + lags.get(lags.size() / 2) + ",max:"
      + lags.get(lags.size() - 1));
  }

  /**
   * A node killed (or frozen) at {@code at}; {@code strictEmail}: a re-send in its crash window counts as a violation
   * too.
   */
  record Crash(String nodeId, long at, boolean strictEmail) {
  }

  /**
   * The at-least-once window of OutboxSender: the killed node's SMTP handoff was complete but the kill came before
   * the row said so, and the survivors' retry (the finalization job rescued from the killed node) sent it once more.
   * Exactly two copies of one message (one Message-ID, checked by the caller), the second after the kill, from
   * exactly two attempts: the first lost with the killed node. The first
   * copy's arrival time is not a test: under load the SMTP sink stored a killed node's last messages more than a
   * second after the kill (CI, 2026-12-04), while the attempt counts show there was no third sender.
   */
  private static boolean resentAfterCrash(Crash crash, List<Long> arrivals, List<Map<String, Object>> sends) {
    List<Long> sorted = arrivals.stream().sorted().toList();
    boolean rescued = sends.stream().anyMatch(x -> String.valueOf(x.get("job_error"))
      .startsWith("lease lost: node " + crash.nodeId() + " stopped during attempt "));
    boolean twoAttempts = sends.size() == 1 && num(sends.get(0), "attempts") == 2
      && num(sends.get(0), "job_attempts") == 2;
    return sorted.size() == 2 && sorted.get(1) > crash.at() && rescued && twoAttempts;
  }

  static long num(Map<String, Object> row, String column) {
    Object v = row.get(column);
    return v == null ? 0 : ((Number) v).longValue();
  }
}
