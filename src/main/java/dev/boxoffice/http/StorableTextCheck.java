package dev.boxoffice.http;

import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.StorableText;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.ValidatedRequest;

import java.util.List;
import java.util.Set;

/**
 * Refuses, after the contract's validation and before any handler, a request carrying text the database cannot
 * store ({@link StorableText}) in any string: path and query parameters, and the body's members at any depth. The
 * answer is the contract's 422 naming the field, so a poisoned request never reaches a shared transaction (a group
 * commit of bookings) where it would fail everyone else's too. Top-level body members the operation lists in
 * {@code x-free-text} follow the free-text rule (line breaks allowed), every other string the field rule.
 */
final class StorableTextCheck implements Handler<RoutingContext> {
  private final Set<String> freeText;

  private StorableTextCheck(Set<String> freeText) {
    this.freeText = freeText;
  }

  static StorableTextCheck of(Operation operation) {
    Object listed = operation.getExtensions().get("x-free-text");
    List<?> names = listed instanceof JsonArray a ? a.getList() : listed instanceof List<?> l ? l : List.of();
    return new StorableTextCheck(Set.copyOf(names.stream().map(String::valueOf).toList()));
  }

  @Override
  public void handle(RoutingContext rc) {
    ValidatedRequest validated = rc.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
    String bad = validated == null ? null : firstBad(validated);
    if (bad != null) {
      ApiVerticle.respondError(rc, Failure.invalid(bad,
        freeText.contains(bad.split("\\.", 2)[0]) ? StorableText.FREE_TEXT_MESSAGE : StorableText.FIELD_MESSAGE));
      return;
    }
    rc.next();
  }

  private String firstBad(ValidatedRequest validated) {
    for (var p : validated.getPathParameters().entrySet()) {
      if (StorableText.firstBad(p.getValue().get(), p.getKey(), true) != null) {
        return p.getKey();
      }
    }
    for (var q : validated.getQuery().entrySet()) {
      if (StorableText.firstBad(q.getValue().get(), q.getKey(), true) != null) {
        return q.getKey();
      }
    }
    if (validated.getBody() == null || validated.getBody().isNull()) {
      return null;
    }
    Object body = validated.getBody().get();
    if (!(body instanceof io.vertx.core.json.JsonObject object)) {
      return StorableText.firstBad(body, "body", true);
    }
    for (var member : object) {
      String name = member.getKey();
      if (!StorableText.isField(name)) {
        return "body";
      }
      String bad = StorableText.firstBad(member.getValue(), name, !freeText.contains(name));
      if (bad != null) {
        return bad;
      }
    }
    return null;
  }
}
