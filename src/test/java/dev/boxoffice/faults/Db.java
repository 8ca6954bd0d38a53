package dev.boxoffice.faults;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The harness's own look at the database (plain JDBC, a fresh connection per call, so a Postgres restart only costs
 * the calls made while it is down). Parameters: Long[] / UUID[] become bigint[] / uuid[].
 */
final class Db {
  private final String url;

  Db(int port, String database) {
    this("127.0.0.1", port, database);
  }

  Db(String host, int port, String database) {
    this.url = "jdbc:postgresql://" + host + ":" + port + "/" + database + "?user=postgres&connectTimeout=5"
      + "&socketTimeout=30&ApplicationName=faults-harness";
  }

  static void createDatabase(int port, String database) throws SQLException {
    createDatabase("127.0.0.1", port, database);
  }

  static void createDatabase(String host, int port, String database) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port
      + "/postgres?user=postgres&connectTimeout=5")) {
      c.createStatement().execute("CREATE DATABASE " + database);
    }
  }

  List<Map<String, Object>> rows(String sql, Object... params) {
    try (Connection c = DriverManager.getConnection(url); PreparedStatement st = c.prepareStatement(sql)) {
      bind(c, st, params);
      List<Map<String, Object>> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        ResultSetMetaData md = rs.getMetaData();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= md.getColumnCount(); i++) {
            row.put(md.getColumnLabel(i), rs.getObject(i));
          }
          out.add(row);
        }
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException("query failed: " + e.getMessage() + "\n  " + sql, e);
    }
  }

  /** The first column of the first row as a long (0 when null). */
  long scalar(String sql, Object... params) {
    List<Map<String, Object>> rows = rows(sql, params);
    if (rows.isEmpty()) {
      return 0;
    }
    Object v = rows.get(0).values().iterator().next();
    return v == null ? 0 : ((Number) v).longValue();
  }

  /** The jobs {@code nodeId} holds a lease on, waiting up to 3 s for at least one (so a fault meets work in flight). */
  Set<UUID> awaitLeases(String nodeId) {
    Set<UUID> leased = new HashSet<>();
    long until = System.currentTimeMillis() + 3_000;
    while (leased.isEmpty() && System.currentTimeMillis() < until) {
      rows("SELECT id FROM jobs WHERE status = 'running' AND locked_by = ?", nodeId)
        .forEach(r -> leased.add((UUID) r.get("id")));
      if (leased.isEmpty()) {
        NodeProcess.sleep(20);
      }
    }
    return leased;
  }

  static Long[] longs(Collection<Long> ids) {
    return ids.toArray(new Long[0]);
  }

  static UUID[] uuids(Collection<String> ids) {
    return ids.stream().map(UUID::fromString).toArray(UUID[]::new);
  }

  private static void bind(Connection c, PreparedStatement st, Object[] params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      Object p = params[i];
      if (p instanceof Long[] ls) {
        Array a = c.createArrayOf("bigint", ls);
        st.setArray(i + 1, a);
      } else if (p instanceof UUID[] us) {
        st.setArray(i + 1, c.createArrayOf("uuid", us));
      } else {
        st.setObject(i + 1, p);
      }
    }
  }
}
