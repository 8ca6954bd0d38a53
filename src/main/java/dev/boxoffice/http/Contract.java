package dev.boxoffice.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.impl.Utils;

/**
 * Loads openapi.yaml for vertx-openapi. The document describes every response, the HTML pages ({@code text/html})
 * and the ticket ({@code application/pdf}) too, but vertx-openapi 5.0.x refuses a contract whose responses name any
 * other media type than JSON, text/plain, octet-stream or multipart. Responses are never validated on the server,
 * so those media types are left out of the copy the router reads; the published document keeps them. So is its
 * server: the document names the node serving it ({@code /}), a relative url vertx-openapi 5.0.x cannot parse;
 * without servers the router serves the paths at the root, as that url means.
 */
public final class Contract {
  public static final String FILE = "openapi.yaml";

  private Contract() {
  }

  /** The contract as vertx-openapi accepts it. */
  public static Future<OpenAPIContract> load(Vertx vertx) {
    return Utils.readYamlOrJson(vertx, FILE).compose(raw -> OpenAPIContract.from(vertx, forVertx(raw)));
  }

  /** A copy of the raw contract without what vertx-openapi cannot load: relative servers, some media types. */
  public static JsonObject forVertx(JsonObject raw) {
    JsonObject copy = raw.copy();
    copy.remove("servers");
    JsonObject paths = copy.getJsonObject("paths", new JsonObject());
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (item.getValue(method) instanceof JsonObject operation) {
          stripUnsupported(operation.getJsonObject("responses", new JsonObject()));
        }
      }
    }
    stripUnsupported(copy.getJsonObject("components", new JsonObject()).getJsonObject("responses", new JsonObject()));
    return copy;
  }

  private static void stripUnsupported(JsonObject responses) {
    for (String status : responses.fieldNames()) {
      if (responses.getValue(status) instanceof JsonObject response
        && response.getValue("content") instanceof JsonObject content) {
        content.fieldNames().removeIf(type -> !MediaType.isMediaTypeSupported(type));
        if (content.isEmpty()) {
          response.remove("content");
        }
      }
    }
  }
}
