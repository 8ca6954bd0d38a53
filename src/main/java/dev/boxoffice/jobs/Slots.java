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
    leased.remove(job.id());
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

  UUID[] leasedIds() {
    return leased.keySet().toArray(new UUID[0]);
  }

  boolean noneLeased() {
    return leased.isEmpty();
  }

  /** Jobs claimed here that are running or about to. */
  int taken() {
    return taken;
  }
}
