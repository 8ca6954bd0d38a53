package dev.boxoffice.ops;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The monitoring page (GET /ui) and the API docs (GET /docs: Swagger UI from its webjar over /openapi.yaml). */
public final class Pages {
  private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/5.20.1";
  private static final String HTML = "text/html; charset=utf-8";
  /** Inline scripts and styles only, no third-party origin: the pages work offline and load nothing foreign. */
  private static final String CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

  private static final Buffer UI = resource("webroot/ui.html");
  private static final Buffer DOCS = Buffer.buffer("""
    <!doctype html>
    <html lang="en">
    <head>
      <meta charset="utf-8">
      <title>boxoffice API docs</title>
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <link rel="stylesheet" href="/docs/swagger-ui.css">
      <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
      <style>body { margin: 0; } .topbar { display: none; }</style>
    </head>
    <body>
      <div id="swagger-ui"></div>
      <script src="/docs/swagger-ui-bundle.js"></script>
      <script>
        window.ui = SwaggerUIBundle({
          url: '/openapi.yaml',
          dom_id: '#swagger-ui',
          deepLinking: true,
          persistAuthorization: true,
          tryItOutEnabled: false,
          validatorUrl: null
        });
      </script>
    </body>
    </html>
    """);

  private Pages() {
  }

  /** GET /ui (operation getMonitoringPage). */
  public static Handler<RoutingContext> monitoring() {
    return rc -> html(rc, UI);
  }

  /** /docs and /docs/ answer the index page; every other /docs/* file comes from the webjar. */
  public static void docs(Router router) {
    router.get("/docs").handler(rc -> html(rc, DOCS));
    router.get("/docs/").handler(rc -> html(rc, DOCS));
    router.get("/docs/index.html").handler(rc -> html(rc, DOCS));
    router.get("/docs/*").handler(StaticHandler.create(SWAGGER_UI).setCachingEnabled(true)
      .setDirectoryListing(false).setDefaultContentEncoding("UTF-8"));
  }

  private static void html(RoutingContext rc, Buffer page) {
    rc.response()
      .putHeader("Content-Type", HTML)
      .putHeader("Cache-Control", "no-cache")
      .putHeader("Content-Security-Policy", CSP)
      .putHeader("X-Content-Type-Options", "nosniff")
      .end(page);
  }

  private static Buffer resource(String path) {
    try (InputStream in = Pages.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException(path + " is missing from the classpath");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
