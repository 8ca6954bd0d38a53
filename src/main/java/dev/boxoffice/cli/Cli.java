package dev.boxoffice.cli;

import dev.boxoffice.ops.BuildInfo;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.Map;

/**
 * The command line other than a plain start: {@code --help}, {@code --version} and {@code accounts ...}. None of them
 * starts a node (no cluster, no HTTP port); {@link #run} returns the exit status instead of exiting, so that tests
 * call it in-process.
 */
public final class Cli {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;

  private Cli() {
  }

  /** Runs the command {@code args} names (at least one argument); {@code env} stands for the process environment. */
  public static int run(String[] args, InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
    switch (args[0]) {
      case "--help", "-h", "help" -> {
        out.print(Usage.full());
        return OK;
      }
      case "--version", "-V", "version" -> {
        out.println("boxoffice " + BuildInfo.version() + " (commit " + BuildInfo.commit() + ")");
        return OK;
      }
      case "accounts" -> {
        return new AccountsCommand(in, out, err, env).run(args);
      }
      default -> {
        return usage(err, "unknown argument: " + args[0]);
      }
    }
  }

  static int usage(PrintStream err, String problem) {
    err.println("boxoffice: " + problem);
    err.println();
    err.print(Usage.commands());
    err.println("Settings: java -jar boxoffice.jar --help");
    return USAGE;
  }
}
