package dev.boxoffice.platform;

import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.TcpIpConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * Builds the Hazelcast cluster manager from the shipped cluster.xml and the BOXOFFICE_CLUSTER_* settings, and the
 * event bus's options from the BOXOFFICE_EVENTBUS_* ones.
 */
public final class ClusterConfig {
  /** A port window wider than this is a typing error: every member host is probed on each of its ports. */
  static final int MAX_PORT_COUNT = 100;

  private ClusterConfig() {
  }

  /** Refuses bad cluster and event-bus settings, naming the variable; runs before the node touches anything. */
  public static void validate(AppConfig config) {
    int port = port(config, "cluster_port", false);
    int count = config.integer("cluster_port_count");
    if (count < 1 || count > MAX_PORT_COUNT) {
      throw new IllegalArgumentException(AppConfig.envName("cluster_port_count") + " must be 1 to " + MAX_PORT_COUNT
        + ", got " + count);
    }
    ClusterMembers.expand(config.string("cluster_members"), port, count);
    port(config, "eventbus_port", true);
    if (blankOr(config, "eventbus_public_port") != null) {
      port(config, "eventbus_public_port", true);
    }
    EventBusTls.validate(config);
  }

  public static HazelcastClusterManager clusterManager(AppConfig config) {
    System.setProperty("hazelcast.logging.type", "slf4j");
    Config hz = new ClasspathXmlConfig("cluster.xml");
    hz.setClusterName(config.string("cluster_name"));
    String host = config.string("cluster_host");
    int port = config.integer("cluster_port");
    int count = config.integer("cluster_port_count");
    NetworkConfig network = hz.getNetworkConfig();
    // the node binds the first free port of cluster_port .. cluster_port + count - 1
    network.setPort(port).setPortAutoIncrement(true).setPortCount(count);
    String publicHost = config.string("cluster_public_host");
    if (publicHost != null && !publicHost.isBlank()) {
      network.setPublicAddress(publicHost + ":" + port);
    }
    if (!"0.0.0.0".equals(host)) {
      network.getInterfaces().setEnabled(true).setInterfaces(java.util.List.of(host));
      hz.setProperty("hazelcast.local.localAddress", host);
    }
    TcpIpConfig tcp = network.getJoin().getTcpIpConfig();
    tcp.setEnabled(true).getMembers().clear();
    ClusterMembers.expand(config.string("cluster_members"), port, count).forEach(tcp::addMember);
    return new HazelcastClusterManager(hz);
  }

  /**
   * The event bus binds on the cluster host and {@code eventbus_port} (0: any free port; Hazelcast tells peers where
   * it is). Behind NAT or in containers peers reach it at {@code eventbus_public_host} (else
   * {@code cluster_public_host}) and {@code eventbus_public_port} (else the bound port). TLS when configured
   * ({@link EventBusTls}).
   */
  public static EventBusOptions eventBusOptions(AppConfig config) {
    EventBusOptions options = new EventBusOptions().setHost(config.string("cluster_host"))
      .setPort(config.integer("eventbus_port"));
    String publicHost = blankOr(config, "eventbus_public_host");
    publicHost = publicHost != null ? publicHost : blankOr(config, "cluster_public_host");
    if (publicHost != null) {
      options.setClusterPublicHost(publicHost); // containers: bind 0.0.0.0, tell peers the service name
    }
    if (blankOr(config, "eventbus_public_port") != null && config.integer("eventbus_public_port") > 0) {
      options.setClusterPublicPort(config.integer("eventbus_public_port"));
    }
    return EventBusTls.apply(config, options);
  }

  private static String blankOr(AppConfig config, String key) {
    String v = config.string(key);
    return v == null || v.isBlank() ? null : v.trim();
  }

  private static int port(AppConfig config, String key, boolean zeroAllowed) {
    int port;
    try {
      port = config.integer(key);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(AppConfig.envName(key) + " must be a port number, got "
        + config.string(key));
    }
    if (port < (zeroAllowed ? 0 : 1) || port > 65535) {
      throw new IllegalArgumentException(AppConfig.envName(key) + " must be " + (zeroAllowed ? "0" : "1")
        + " to 65535, got " + port);
    }
    return port;
  }
}
