package dev.boxoffice.auth;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a new or changed account must satisfy, for the accounts API (behind the contract's own checks, which say the
 * same) and the {@code accounts} command alike. Each rule answers with the problem, or null when the value is fine.
 */
public final class AccountRules {
  public static final int MIN_PASSWORD = 8;
  /** As long as {@code POST /token} accepts. */
  public static final int MAX_PASSWORD = 200;
  public static final int MAX_USERNAME = 100;
  private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]*");

  private AccountRules() {
  }

  public static String username(String username) {
    if (username == null || username.isEmpty() || username.length() > MAX_USERNAME
      || !USERNAME.matcher(username).matches()) {
      return "must be 1.." + MAX_USERNAME + " letters, digits, '.', '_', '@' or '-', starting with a letter or digit";
    }
    return null;
  }

  /** {@code prod}: the dev accounts' passwords are refused too (a prod node would refuse to start with them). */
  public static String password(String password, boolean prod) {
    if (password == null || password.length() < MIN_PASSWORD || password.length() > MAX_PASSWORD) {
      return "must be " + MIN_PASSWORD + ".." + MAX_PASSWORD + " characters";
    }
    if (prod && AccountsBootstrap.DEV_ACCOUNTS.values().stream().anyMatch(spec -> spec[0].equals(password))) {
      return "is a dev account's password, refused in the prod profile";
    }
    return null;
  }

  public static String role(String role) {
    return "admin".equals(role) || "user".equals(role) ? null : "must be admin or user";
  }

  /** admin or user from any case; unchanged (and so refused by {@link #role}) otherwise. */
  public static String normalRole(String role) {
    return role == null ? null : role.toLowerCase(Locale.ROOT);
  }

  /** The problems of a whole request, by field in order; empty when there are none. Null values are skipped. */
  public static Map<String, String> problems(String username, String password, String role, boolean prod) {
    Map<String, String> problems = new LinkedHashMap<>();
    put(problems, "username", username == null ? null : username(username));
    put(problems, "password", password == null ? null : password(password, prod));
    put(problems, "role", role == null ? null : role(role));
    return problems;
  }

  private static void put(Map<String, String> problems, String field, String problem) {
    if (problem != null) {
      problems.put(field, problem);
    }
  }
}
