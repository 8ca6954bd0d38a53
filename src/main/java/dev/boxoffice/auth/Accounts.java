package dev.boxoffice.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/** The accounts table: lookups for login and the idempotent inserts start-up needs. */
public final class Accounts {
  /** One stored account. */
  public record Account(String username, String passwordHash, String role) {
  }

  private static final String FIND = """
    SELECT username, password_hash, role FROM accounts WHERE username = $1
    """;

  private static final String FIND_MANY = """
    SELECT username, password_hash, role FROM accounts WHERE username = ANY($1)
    """;

  // Nodes starting together may both try: the unique username makes the second insert a no-op.
  private static final String INSERT_IF_ABSENT = """
    INSERT INTO accounts (username, password_hash, role) VALUES ($1, $2, $3)
    ON CONFLICT (username) DO NOTHING
    """;

  private static final String INSERT_ADMIN_IF_NONE = """
    INSERT INTO accounts (username, password_hash, role)
    SELECT $1, $2, 'admin'
    WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin')
    ON CONFLICT (username) DO NOTHING
    """;

  private static final String ADMIN_EXISTS = """
    SELECT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin') AS present
    """;

  private final Pool pool;

  public Accounts(Pool pool) {
    this.pool = pool;
  }

  /** The account, or null when there is none with that name. */
  public Future<Account> find(String username) {
    return pool.preparedQuery(FIND).execute(Tuple.of(username))
      .map(rows -> rows.size() == 0 ? null : account(rows.iterator().next()));
  }

  public Future<List<Account>> findAll(List<String> usernames) {
    return pool.preparedQuery(FIND_MANY).execute(Tuple.of(usernames.toArray(new String[0])))
      .map(rows -> {
        List<Account> found = new ArrayList<>();
        rows.forEach(r -> found.add(account(r)));
        return found;
      });
  }

  /** True when this call created the account. */
  public Future<Boolean> insertIfAbsent(String username, String passwordHash, String role) {
    return pool.preparedQuery(INSERT_IF_ABSENT).execute(Tuple.of(username, passwordHash, role))
      .map(rows -> rows.rowCount() == 1);
  }

  /** Creates an admin account only while no admin exists at all; true when this call created it. */
  public Future<Boolean> insertAdminIfNone(String username, String passwordHash) {
    return pool.preparedQuery(INSERT_ADMIN_IF_NONE).execute(Tuple.of(username, passwordHash))
      .map(rows -> rows.rowCount() == 1);
  }

  public Future<Boolean> adminExists() {
    return pool.query(ADMIN_EXISTS).execute().map(rows -> rows.iterator().next().getBoolean("present"));
  }

  private static Account account(Row r) {
    return new Account(r.getString("username"), r.getString("password_hash"), r.getString("role"));
  }
}
