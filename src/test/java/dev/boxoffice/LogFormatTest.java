package dev.boxoffice;

import dev.boxoffice.testing.MainProcess;
import dev.boxoffice.testing.TestStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Which log format a process gets without {@code BOXOFFICE_LOG_FORMAT}: TEXT when its standard output is a terminal
 * (whatever standard input and error are), JSON lines when it is a pipe or a file; a format that is set always wins.
 * Each case is a start refused by a bad port (exit status 2, one ERROR line, nothing started), run as the jar runs
 * it; the terminal is a pseudo-terminal from util-linux's {@code script} (the cases needing it are skipped without).
 */
class LogFormatTest {
  /** A TEXT line: an ISO 8601 timestamp with its zone, then the level. */
  private static final String TEXT_LINE =
    "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) ERROR .*";
  private static final String REFUSAL = "BOXOFFICE_HTTP_PORT must be a port (1..65535), got 70000";

  @TempDir
  Path dataDir;
  @TempDir
  Path work;

  @Test
  void onATerminalTheLogsAreText() throws Exception {
    assertThat(refusalLine(inTerminal(Map.of(), ""))).matches(TEXT_LINE);
  }

  @Test
  void standardInputOrErrorRedirectedLeavesATerminalText() throws Exception {
    assertThat(refusalLine(inTerminal(Map.of(), "< /dev/null"))).as("stdin from /dev/null").matches(TEXT_LINE);
    assertThat(refusalLine(inTerminal(Map.of(), "2> /dev/null"))).as("stderr to /dev/null").matches(TEXT_LINE);
  }

  @Test
  void intoAPipeOrAFileTheLogsAreJsonLines() throws Exception {
    assertThat(refusalLine(inTerminal(Map.of(), "| cat"))).as("piped, on a terminal").startsWith("{\"@timestamp\":");
    assertThat(refusalLine(MainProcess.run(work, env(Map.of())))).as("into a file").startsWith("{\"@timestamp\":");
  }

  @Test
  void aFormatThatIsSetWinsOverTheTerminal() throws Exception {
    assertThat(refusalLine(inTerminal(Map.of("BOXOFFICE_LOG_FORMAT", "JSON"), ""))).startsWith("{\"@timestamp\":");
    assertThat(refusalLine(MainProcess.run(work, env(Map.of("BOXOFFICE_LOG_FORMAT", "text"))))).matches(TEXT_LINE);
  }

  private MainProcess.Run inTerminal(Map<String, String> env, String redirections) throws Exception {
    assumeTrue(MainProcess.terminalAvailable(), "util-linux's script is not installed: no pseudo-terminal");
    return MainProcess.runInTerminal(work, env(env), redirections);
  }

  private Map<String, String> env(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.put("BOXOFFICE_HTTP_PORT", "70000");
    all.put("BOXOFFICE_DATA_DIR", dataDir.toString());
    all.put("BOXOFFICE_CLUSTER_PORT", String.valueOf(TestStorage.freePort()));
    return all;
  }

  /** The one line the refused start printed. */
  private static String refusalLine(MainProcess.Run run) {
    List<String> lines = run.out().lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).as(run.all()).singleElement().asString().contains(REFUSAL);
    return lines.get(0);
  }
}
