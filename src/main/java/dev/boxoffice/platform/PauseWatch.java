package dev.boxoffice.platform;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Notices that this process was frozen: a long GC pause, a stalled VM, SIGSTOP. A daemon thread ticks every
 * {@link #TICK_MS}; a tick that comes much later than asked means nothing in the process ran meanwhile. One watch per
 * process (a pause freezes every node a JVM holds).
 *
 * <p>Why it matters: a node that wakes from a pause longer than the cluster's heartbeat timeout was removed by the
 * others, and on waking its own cluster view drops them in turn. To this node they "left", but it was the one that
 * was gone: it must not take back their leases as if they had died ({@code jobs/LeaseKeeper}), and it should rejoin
 * at once rather than run alone ({@link ClusterRejoin}).
 */
public final class PauseWatch {
  private static final Logger log = LoggerFactory.getLogger(PauseWatch.class);
  static final long TICK_MS = 200;
  /**
   * A gap this long counts as a pause: half the cluster's heartbeat timeout (cluster.xml, 6 s), the point from which
   * Hazelcast itself treats the gap as a clock jump and the members' view of this node may already be changing.
   */
  public static final long PAUSE_MS = 3_000;
  /** How long after waking members that "leave" are taken to have left this node, not the other way round. */
  public static final long AFTERMATH_MS = 20_000;

  private static final PauseWatch SHARED = new PauseWatch();

  private volatile long lastTick = System.nanoTime();
  private volatile long wokeAt;
  private volatile long lastPauseMs;
  private volatile boolean woken;
  private Thread thread;

  private PauseWatch() {
  }

  /** The process's watch, started on first use. */
  public static PauseWatch shared() {
    SHARED.start();
    return SHARED;
  }

  private synchronized void start() {
    if (thread != null) {
      return;
    }
    lastTick = System.nanoTime();
    thread = new Thread(this::run, "boxoffice-pause-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (true) {
      try {
        Thread.sleep(TICK_MS);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      long gap = TimeUnit.NANOSECONDS.toMillis(now - lastTick) - TICK_MS;
      if (gap >= PAUSE_MS) {
        lastPauseMs = gap;
        wokeAt = now;
        woken = true;
        log.warn("this process was frozen for {} ms (GC pause, stalled VM or SIGSTOP); members that leave this node's"
          + " view in the next {} s are taken to have lost it, not to have died", gap, AFTERMATH_MS / 1000);
      }
      lastTick = now;
    }
  }

  /**
   * Whether this process is waking from a pause: one ended less than {@link #AFTERMATH_MS} ago, or one is ending
   * right now (the watch has not ticked since: a thread woken first asks before the watch could say).
   */
  public boolean waking() {
    long now = System.nanoTime();
    if (TimeUnit.NANOSECONDS.toMillis(now - lastTick) - TICK_MS >= PAUSE_MS) {
      return true;
    }
    return woken && TimeUnit.NANOSECONDS.toMillis(now - wokeAt) < AFTERMATH_MS;
  }

  /** The length of the last pause noticed, in ms (0 if none). */
  public long lastPauseMs() {
    return lastPauseMs;
  }
}
