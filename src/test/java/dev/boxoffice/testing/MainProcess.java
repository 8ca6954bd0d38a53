package dev.boxoffice.testing;

import dev.boxoffice.Main;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code java dev.boxoffice.Main} in a JVM of its own, as the jar runs it, with the product's own logback.xml (not
 * the tests' one), an environment holding only the given {@code BOXOFFICE_*} variables, and its standard output and
 * error captured: for what a process shows (exit status, log lines) and what it must not do (start anything).
 */
public final class MainProcess {
  /** The finished process: its exit status and what it printed. */
  public record Run(int status, String out, String err) {
    /** Standard output and error together. */
    public String all() {
      return out + err;
    }
  }

  private MainProcess() {
  }

  /** Runs Main with {@code env} (plus the inherited non-BOXOFFICE variables); {@code work} holds its output files. */
  public static Run run(Path work, Map<String, String> env, String... args) throws Exception {
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Dlogback.configurationFile=" + classes.resolve("logback.xml"), "-cp", classPath, Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> k.startsWith("BOXOFFICE_"));
    pb.environment().putAll(env);
    File out = work.resolve("out").toFile();
    File err = work.resolve("err").toFile();
    Process p = pb.redirectOutput(out).redirectError(err).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    p.getOutputStream().close();
    if (!p.waitFor(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("boxoffice " + String.join(" ", args) + " did not exit within " + Await.TIMEOUT);
    }
    return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
      Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }
}
