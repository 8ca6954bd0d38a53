package dev.boxoffice.platform;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterMembersTest {
  @Test
  void aHostAloneMeansThePortsWithinTheCountOfThisNodesPortBothWays() {
    assertThat(ClusterMembers.expand("10.0.0.1", 5701, 3))
      .containsExactly("10.0.0.1:5699", "10.0.0.1:5700", "10.0.0.1:5701", "10.0.0.1:5702", "10.0.0.1:5703");
  }

  @Test
  void aPortOrARangeIsTakenAsGiven() {
    assertThat(ClusterMembers.expand(" a:5801 , b:5701-5703,[::1]:7000,[fe80::1]", 5701, 1))
      .containsExactly("a:5801", "b:5701", "b:5702", "b:5703", "[::1]:7000", "[fe80::1]:5701");
  }

  @Test
  void duplicatesAndBlankEntriesAreDropped() {
    assertThat(ClusterMembers.expand("a:1,,a:1, ", 5701, 1)).containsExactly("a:1");
  }

  @Test
  void badEntriesAreRefusedByName() {
    assertThatThrownBy(() -> ClusterMembers.expand("a:70000", 5701, 1)).hasMessageContaining("'a:70000'");
    assertThatThrownBy(() -> ClusterMembers.expand("a:5703-5701", 5701, 1)).hasMessageContaining("ends before");
    assertThatThrownBy(() -> ClusterMembers.expand("::1", 5701, 1)).hasMessageContaining("brackets");
    assertThatThrownBy(() -> ClusterMembers.expand("a:1-60000", 5701, 1)).hasMessageContaining("more than");
    assertThatThrownBy(() -> ClusterMembers.expand(":5701", 5701, 1)).hasMessageContaining("no host");
  }

  @Test
  void theSettingsAreCheckedWithTheRestOfTheConfiguration() {
    assertThatThrownBy(() -> AppConfig.of(new io.vertx.core.json.JsonObject().put("cluster_port_count", 0))
      .validate()).hasMessageContaining("BOXOFFICE_CLUSTER_PORT_COUNT");
    assertThatThrownBy(() -> AppConfig.of(new io.vertx.core.json.JsonObject().put("eventbus_port", 70000))
      .validate()).hasMessageContaining("BOXOFFICE_EVENTBUS_PORT");
    assertThatThrownBy(() -> AppConfig.of(new io.vertx.core.json.JsonObject().put("eventbus_tls_cert", "/x.pem"))
      .validate()).hasMessageContaining("BOXOFFICE_EVENTBUS_TLS_KEY");
  }
}
