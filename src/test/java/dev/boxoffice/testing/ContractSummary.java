package dev.boxoffice.testing;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * At the end of the test run, says how many responses {@link ContractCheck} validated against openapi.yaml and
 * lists the mismatches, on stdout and in {@code target/openapi-responses.txt} (the tests' stdout goes to
 * surefire's report files; CI prints this file after the build). Registered through META-INF/services.
 */
public final class ContractSummary implements TestExecutionListener {
  static final Path FILE = Path.of("target", "openapi-responses.txt");

  @Override
  public void testPlanExecutionFinished(TestPlan testPlan) {
    StringBuilder out = new StringBuilder()
      .append("responses validated against openapi.yaml: ").append(ContractCheck.VALIDATED.get())
      .append(" (status, content type, body schema); checked for status and content type only: ")
      .append(ContractCheck.STATUS_AND_TYPE.get()).append(" (HTML, PDF, routes outside the contract); mismatches: ")
      .append(ContractCheck.MISMATCHES.size()).append('\n');
    ContractCheck.MISMATCHES.forEach(m -> out.append("  mismatch: ").append(m).append('\n'));
    System.out.print(out);
    try {
      if (Files.isDirectory(FILE.getParent())) {
        Files.writeString(FILE, out);
      }
    } catch (IOException e) {
      System.out.println("could not write " + FILE + ": " + e);
    }
  }
}
