package dev.boxoffice.platform;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which text a field, and free text, may hold; and which path names the first bad one. */
class StorableTextTest {
  @Test
  void aFieldTakesTabAndPairedSurrogatesButNoOtherControlOrLoneSurrogate() {
    assertThat(StorableText.isField("Ada\tLovelace \uD83C\uDFAB é")).isTrue();
    assertThat(StorableText.isField("")).isTrue();
    for (String bad : new String[]{"a\u0000b", "a\u0001", "line\nbreak", "cr\r", "\u001f", "x\uD800", "\uDC00x",
      "\uD800\uD800\uDC00" /* a high one before a pair */, "end\uD83C"}) {
      assertThat(StorableText.isField(bad)).as(bad).isFalse();
    }
    assertThat(StorableText.isField("del\u007f")).as("DEL is not C0").isTrue();
  }

  @Test
  void freeTextKeepsLineBreaksAndControlsButNotNulOrLoneSurrogates() {
    assertThat(StorableText.isFreeText("two\nlines\r\n\u0007")).isTrue();
    assertThat(StorableText.isFreeText("nul\u0000")).isFalse();
    assertThat(StorableText.isFreeText("lone\uDBFF")).isFalse();
  }

  @Test
  void theFirstBadStringIsNamedByItsPathKeysIncluded() {
    JsonObject body = new JsonObject().put("ok", "fine")
      .put("nested", new JsonObject().put("list", new JsonArray().add("a").add(new JsonObject().put("deep", "x\u0000"))));
    assertThat(StorableText.firstBad(body, "payload", false)).isEqualTo("payload.nested.list.1.deep");
    assertThat(StorableText.firstBad(new JsonObject().put("k\u0000", 1), "payload", false)).isEqualTo("payload");
    assertThat(StorableText.firstBad(new JsonObject().put("text", "a\nb"), "payload", false)).isNull();
    assertThat(StorableText.firstBad(new JsonObject().put("text", "a\nb"), "", true)).isEqualTo("text");
    assertThat(StorableText.firstBad(42, "n", true)).isNull();
  }
}
