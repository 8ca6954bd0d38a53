package dev.boxoffice.booking;

import io.vertx.core.Future;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The built-in provider: approves everything except e-mails matching {@code payment_decline_emails}. */
public final class SimulatedPayments implements PaymentProvider {
  private final Pattern declineEmails;

  public SimulatedPayments(Pattern declineEmails) {
    this.declineEmails = declineEmails;
  }

  /** From the setting: null or blank declines nothing; an invalid regex is a start-up error. */
  public static SimulatedPayments fromSetting(String regex) {
    if (regex == null || regex.isBlank()) {
      return new SimulatedPayments(null);
    }
    try {
      return new SimulatedPayments(Pattern.compile(regex));
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("payment_decline_emails is not a valid regex: " + e.getDescription(), e);
    }
  }

  @Override
  public Future<Outcome> charge(Charge charge) {
    if (declineEmails != null && declineEmails.matcher(charge.email()).find()) {
      return Future.succeededFuture(Outcome.decline("Payment declined by the provider"));
    }
    // derived from the idempotency key, as a real provider answers a repeated charge with its first reference
    return Future.succeededFuture(Outcome.approve("sim:" + charge.idempotencyKey()));
  }
}
