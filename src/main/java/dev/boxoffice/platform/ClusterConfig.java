package dev.boxoffice.platform;

import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.TcpIpConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.Arrays;

/** Builds the Hazelcast cluster manager from the shipped cluster.xml and the BOXOFFICE_CLUSTER_* settings. */
public final class ClusterConfig {
  private ClusterConfig() {
  }

  public static HazelcastClusterManager clusterManager(AppConfig config) {
    System.setProperty("hazelcast.logging.type", "slf4j");
    Config hz = new ClasspathXmlConfig("cluster.xml");
    hz.setClusterName(config.string("cluster_name"));
    String host = config.string("cluster_host");
    NetworkConfig network = hz.getNetworkConfig();
    network.setPort(config.integer("cluster_port"));
    network.setPortAutoIncrement(true);
    String publicHost = config.string("cluster_public_host");
    if (publicHost != null && !publicHost.isBlank()) {
      network.setPublicAddress(publicHost + ":" + config.integer("cluster_port"));
    }
    if (!"0.0.0.0".equals(host)) {
      network.getInterfaces().setEnabled(true).setInterfaces(java.util.List.of(host));
      hz.setProperty("hazelcast.local.localAddress", host);
    }
    TcpIpConfig tcp = network.getJoin().getTcpIpConfig();
    tcp.setEnabled(true).getMembers().clear();
    Arrays.stream(config.string("cluster_members").split(","))
      .map(String::trim).filter(m -> !m.isEmpty())
      .forEach(tcp::addMember);
    return new HazelcastClusterManager(hz);
  }

  /** The event bus binds on the cluster host; its port is picked freely, Hazelcast tells peers where it is. */
  public static EventBusOptions eventBusOptions(AppConfig config) {
    EventBusOptions options = new EventBusOptions().setHost(config.string("cluster_host")).setPort(0);
    String publicHost = config.string("cluster_public_host");
    if (publicHost != null && !publicHost.isBlank()) {
      options.setClusterPublicHost(publicHost); // containers: bind 0.0.0.0, tell peers the service name
    }
    return options;
  }
}
