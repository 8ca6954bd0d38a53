package dev.boxoffice.auth;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The login limiter's counters on this node alone, for while Redis does not answer: the same caps and windows, so
 * guessing stays bounded (per node) and logins keep working. Bounded in size: when full of live windows it refuses
 * new ones rather than grow (a flood of usernames must not exhaust memory), which only affects logins while Redis
 * is down and under that flood.
 */
final class LocalLoginCounters {
  private static final int MAX_KEYS = 100_000;

  private record Window(int count, long endsAt) {
  }

  private final long windowMs;
  private final Map<String, Window> windows = new HashMap<>();

  LocalLoginCounters(long windowMs) {
    this.windowMs = windowMs;
  }

  /** As the Redis script: 0 and a slot taken in each counter, or the ms until the blocking window ends. */
  synchronized long acquire(List<String> keys, List<Integer> caps) {
    long now = System.currentTimeMillis();
    long wait = 0;
    for (int i = 0; i < keys.size(); i++) {
      Window w = live(keys.get(i), now);
      if (w != null && w.count() >= caps.get(i)) {
        wait = Math.max(wait, w.endsAt() - now);
      }
    }
    if (wait > 0) {
      return wait;
    }
    if (windows.size() + keys.size() > MAX_KEYS) {
      windows.values().removeIf(w -> w.endsAt() <= now);
      if (windows.size() + keys.size() > MAX_KEYS) {
        return windowMs;
      }
    }
    for (String key : keys) {
      Window w = live(key, now);
      windows.put(key, w == null ? new Window(1, now + windowMs) : new Window(w.count() + 1, w.endsAt()));
    }
    return 0;
  }

  synchronized void succeeded(String pairKey, String userKey) {
    windows.remove(pairKey);
    Window w = windows.get(userKey);
    if (w != null && w.count() > 0) {
      windows.put(userKey, new Window(w.count() - 1, w.endsAt()));
    }
  }

  synchronized void release(String... keys) {
    for (String key : keys) {
      Window w = windows.get(key);
      if (w != null && w.count() > 0) {
        windows.put(key, new Window(w.count() - 1, w.endsAt()));
      }
    }
  }

  private Window live(String key, long now) {
    Window w = windows.get(key);
    if (w != null && w.endsAt() <= now) {
      windows.remove(key);
      return null;
    }
    return w;
  }
}
