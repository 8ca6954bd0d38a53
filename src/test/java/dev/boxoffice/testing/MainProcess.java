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
    return run(work, env, command(args), args);
  }

  /** Whether {@link #runInTerminal} can run here: it needs util-linux's {@code script}. */
  public static boolean terminalAvailable() {
    return Files.isExecutable(Path.of("/usr/bin/script")) || Files.isExecutable(Path.of("/bin/script"));
  }

  /**
   * Runs Main in a pseudo-terminal of its own (util-linux's {@code script}), through {@code sh -c} with
   * {@code redirections} after the command ({@code "< /dev/null"}, {@code "2> /dev/null"}, {@code "| cat"}): what
   * the terminal showed is {@link Run#out} (line ends without their carriage returns), {@link Run#err} is empty.
   */
  public static Run runInTerminal(Path work, Map<String, String> env, String redirections, String... args)
    throws Exception {
    StringBuilder line = new StringBuilder();
    for (String part : command(args)) {
      line.append('\'').append(part.replace("'", "'\\''")).append("' ");
    }
    line.append(redirections);
    Run run = run(work, env, List.of("script", "-q", "-e", "-c", line.toString(), "/dev/null"), args);
    return new Run(run.status(), run.out().replace("\r", ""), run.err());
  }

  /** {@code java dev.boxoffice.Main args} as the jar runs it: this JVM's java, the product's logback.xml. */
  private static List<String> command(String... args) throws Exception {
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Dlogback.configurationFile=" + classes.resolve("logback.xml"), "-cp", classPath, Main.class.getName()));
    command.addAll(List.of(args));
    return command;
  }

  private static Run run(Path work, Map<String, String> env, List<String> command, String... args) throws Exception {
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
