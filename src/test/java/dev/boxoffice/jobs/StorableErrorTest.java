package dev.boxoffice.jobs;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A job's last error must be something Postgres accepts, whatever the handler's exception carried. */
class StorableErrorTest {
  @Test
  void nulCharactersFromBinaryDataAreReplacedAndLongMessagesCut() {
    assertThat(OutcomeWriter.storable("bad parameter %PDF-1.4\u0000\u0000x")).isEqualTo("bad parameter %PDF-1.4??x");
    assertThat(OutcomeWriter.storable("e".repeat(5000))).hasSize(2000);
    assertThat(OutcomeWriter.storable("plain")).isEqualTo("plain");
    assertThat(OutcomeWriter.storable(null)).isNull();
  }
}
