package dev.boxoffice.ops;

import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** GET /info and the build-info meter: which build a node runs, told the same way in both. */
class InfoTest {
  // an http-only node: /info and /metrics are answered at the edge
  @RegisterExtension
  static final TestNode node = TestNode.create().with("roles", "http,scheduler").with(TestNodes.noUserCrons());

  @Test
  void infoIsPublicAndTellsBuildProfileRolesAndStart() throws Exception {
    HttpResponse<Buffer> r = await(node.api().get("/info"));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    JsonObject info = r.bodyAsJsonObject();
    assertThat(info.fieldNames()).containsExactlyInAnyOrder("version", "commit", "profile", "roles", "started_at");
    assertThat(info.getString("version")).isEqualTo(BuildInfo.version()).isNotEqualTo(BuildInfo.UNKNOWN);
    assertThat(info.getString("commit")).isEqualTo(BuildInfo.commit());
    assertThat(info.getString("profile")).isEqualTo("dev");
    assertThat(info.getJsonArray("roles")).isEqualTo(new JsonArray().add("http").add("scheduler"));
    assertThat(Instant.parse(info.getString("started_at"))).isBefore(Instant.now());
  }

  @Test
  void metricsCarryTheBuildInfoWithTheSameVersionAndCommit() throws Exception {
    String text = await(node.api().get("/metrics")).bodyAsString();

    assertThat(text).contains("# TYPE boxoffice_build_info gauge");
    assertThat(text).contains("boxoffice_build_info{commit=\"" + BuildInfo.commit() + "\",version=\""
      + BuildInfo.version() + "\"} 1\n");
  }
}
