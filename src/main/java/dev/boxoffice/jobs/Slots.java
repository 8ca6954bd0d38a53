package dev.boxoffice.jobs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What one engine holds, shared by its parts on the engine's event loop (so without locks): the slots its
 * concurrency allows and those taken, the attempts whose leases it renews, and handed-off jobs waiting for a slot.
 */
final class Slots {
  private final int concurrency;
  /** Jobs claimed here that are running or (claimed ahead of their due time) about to. */
  private int taken;
  /** Attempts leased to this node, running or (handed off) waiting for room: their leases are renewed. */
  private final Map<UUID, Integer> leased = new HashMap<>();
  private final ArrayDeque<Job> waiting = new ArrayDeque<>();

  Slots(int concurrency) {
    this.concurrency = concurrency;
  }

  /** How many jobs a claim may take: handed-off jobs waiting come first. */
  int forClaims() {
    return concurrency - taken - waiting.size();
  }

  /** How many jobs may start now. */
  int free() {
    return concurrency - taken;
  }

  /** A slot held for a job claimed ahead of its due time, counted from the claim. */
  void reserve() {
    taken++;
  }

  void unreserve() {
    taken--;
  }

  /** The job goes to its handler. */
  void start(Job job) {
    taken++;
    leased.put(job.id(), job.attempt());
  }

  /** Its handler answered (or did not in time). */
  void finish(Job job) {
    taken--;
    leased.remove(job.id(), job.attempt());
  }

  /** A handed-off job waits for a slot; its lease is renewed meanwhile. */
  void await(Job job) {
    waiting.add(job);
    leased.put(job.id(), job.attempt());
  }

  boolean hasWaiting() {
    return !waiting.isEmpty();
  }

  Job nextWaiting() {
    return waiting.poll();
  }

  /** Every waiting job, no longer held here (going back to the queue). */
  List<Job> giveUpWaiting() {
    List<Job> jobs = new ArrayList<>(waiting);
    waiting.clear();
    jobs.forEach(job -> leased.remove(job.id()));
    return jobs;
  }

  /** The attempts whose leases are renewed, as parallel arrays of job ids and attempt numbers. */
  Held held() {
    UUID[] ids = new UUID[leased.size()];
    Integer[] attempts = new Integer[leased.size()];
    int i = 0;
    for (Map.Entry<UUID, Integer> e : leased.entrySet()) {
      ids[i] = e.getKey();
      attempts[i++] = e.getValue();
    }
    return new Held(ids, attempts);
  }

  record Held(UUID[] ids, Integer[] attempts) {
  }

  /**
   * Attempts whose leases are no longer ours (rescued while this node was paused or cut off): no more renewals, and
   * handed-off jobs among them never start. Those already running keep their slot until their handler answers;
   * their side effects are refused by {@link LeaseFence}. Returns how many were still held here.
   */
  int drop(Map<UUID, Integer> lost) {
    int n = 0;
    for (Map.Entry<UUID, Integer> e : lost.entrySet()) {
      if (leased.remove(e.getKey(), e.getValue())) {
        n++;
      }
    }
    waiting.removeIf(job -> lost.containsKey(job.id()) && lost.get(job.id()) == job.attempt());
    return n;
  }

  boolean noneLeased() {
    return leased.isEmpty();
  }

  /** Jobs claimed here that are running or about to. */
  int taken() {
    return taken;
  }
}
