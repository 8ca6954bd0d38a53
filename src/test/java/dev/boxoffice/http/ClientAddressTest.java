package dev.boxoffice.http;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which address the per-client limits see, with and without trusted proxies in front. */
class ClientAddressTest {
  private final ClientAddress proxies = ClientAddress.fromSetting("10.0.0.0/8, 192.168.1.7, fd00::/8");

  @Test
  void anUntrustedPeersForwardedForIsIgnored() {
    assertThat(proxies.resolve("203.0.113.9", List.of("1.2.3.4"))).isEqualTo("203.0.113.9");
    assertThat(ClientAddress.fromSetting(null).resolve("10.0.0.1", List.of("1.2.3.4"))).isEqualTo("10.0.0.1");
  }

  @Test
  void aTrustedPeerNamesTheClientAsTheFirstUntrustedHopFromTheRight() {
    assertThat(proxies.resolve("192.168.1.7", List.of("1.2.3.4"))).isEqualTo("1.2.3.4");
    // the client may prepend anything; only what trusted proxies appended counts
    assertThat(proxies.resolve("10.0.0.5", List.of("6.6.6.6, 1.2.3.4, 10.9.9.9"))).isEqualTo("1.2.3.4");
    assertThat(proxies.resolve("10.0.0.5", List.of("6.6.6.6", "1.2.3.4"))).isEqualTo("1.2.3.4");
    assertThat(proxies.resolve("fd00::1", List.of("2001:db8::5"))).isEqualTo("2001:db8::5");
  }

  @Test
  void garbledOrMissingHopsFallBackToThePeer() {
    assertThat(proxies.resolve("10.0.0.5", List.of())).isEqualTo("10.0.0.5");
    assertThat(proxies.resolve("10.0.0.5", List.of("evil.example.com"))).isEqualTo("10.0.0.5");
    assertThat(proxies.resolve("10.0.0.5", List.of("1.2.3.999"))).isEqualTo("10.0.0.5");
    assertThat(proxies.resolve("192.168.1.8", List.of("1.2.3.4"))).as("outside the list").isEqualTo("192.168.1.8");
  }

  @Test
  void aBadSettingIsRefused() {
    assertThatThrownBy(() -> ClientAddress.fromSetting("10.0.0.0/33")).hasMessageContaining("trusted_proxies");
    assertThatThrownBy(() -> ClientAddress.fromSetting("proxy.local")).hasMessageContaining("trusted_proxies");
  }
}
