package dev.boxoffice.faults;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Polls {@code /health/ready} of every node every 250 ms (one request per node at a time) and keeps the answers,
 * so a scenario can ask afterwards whether a node said 503 during an outage and when it said 200 again.
 */
final class ReadinessProbe {
  private static final long TIMEOUT_MS = 3_000;

  /** One answer: when the request went out and came back, the status (-1: no answer) and the members it counted. */
  record Sample(String node, long sentAt, long doneAt, int status, int members) {
  }

  private final Vertx vertx;
  private final List<NodeProcess> nodes;
  private final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
  private final Set<String> busy = ConcurrentHashMap.newKeySet();
  private long timer = -1;

  ReadinessProbe(Vertx vertx, List<NodeProcess> nodes) {
    this.vertx = vertx;
    this.nodes = List.copyOf(nodes);
  }

  ReadinessProbe start() {
    timer = vertx.setPeriodic(250, id -> nodes.forEach(this::probe));
    return this;
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  private void probe(NodeProcess node) {
    if (!busy.add(node.name)) {
      return;
    }
    long sent = System.currentTimeMillis();
    node.web.get("/health/ready").timeout(TIMEOUT_MS).send().onComplete(ar -> {
      int members = -1;
      if (ar.succeeded()) {
        try {
          members = new NodeProcess.Readiness(ar.result().statusCode(), ar.result().bodyAsJsonObject()).members();
        } catch (RuntimeException notJson) {
          // keep -1
        }
      }
      samples.add(new Sample(node.name, sent, System.currentTimeMillis(), ar.succeeded() ? ar.result().statusCode()
        : -1, members));
      busy.remove(node.name);
    });
  }

  /** True when the node answered {@code status} to a request sent within [from, to]. */
  boolean saw(NodeProcess node, int status, long from, long to) {
    synchronized (samples) {
      return samples.stream().anyMatch(s -> s.node().equals(node.name) && s.status() == status
        && s.sentAt() >= from && s.sentAt() <= to);
    }
  }

  /** When the node's first 200 to a request sent at or after {@code from} came back. */
  OptionalLong firstReadyAfter(NodeProcess node, long from) {
    synchronized (samples) {
      return samples.stream().filter(s -> s.node().equals(node.name) && s.status() == 200 && s.sentAt() >= from)
        .mapToLong(Sample::doneAt).min();
    }
  }

  /** When the node's first answer {@code status} to a request sent at or after {@code from} came back. */
  OptionalLong firstAnswerAfter(NodeProcess node, int status, long from) {
    synchronized (samples) {
      return samples.stream().filter(s -> s.node().equals(node.name) && s.status() == status && s.sentAt() >= from)
        .mapToLong(Sample::doneAt).min();
    }
  }

  /**
   * The first moment at or after {@code from} (an answer's arrival) at which the latest answers of all the nodes,
   * each to a request sent at or after {@code from}, satisfy {@code state} (keyed by node name); empty if never.
   */
  OptionalLong firstMoment(long from, java.util.function.Predicate<java.util.Map<String, Sample>> state) {
    List<Sample> sorted;
    synchronized (samples) {
      sorted = samples.stream().filter(s -> s.sentAt() >= from)
        .sorted(java.util.Comparator.comparingLong(Sample::doneAt)).toList();
    }
    java.util.Map<String, Sample> latest = new java.util.HashMap<>();
    for (Sample s : sorted) {
      latest.put(s.node(), s);
      if (latest.size() == nodes.size() && state.test(latest)) {
        return OptionalLong.of(s.doneAt());
      }
    }
    return OptionalLong.empty();
  }

  /** When every node's latest answer was 200 counting {@code members} members (one whole cluster), from {@code from}. */
  OptionalLong oneCluster(long from, int members) {
    return firstMoment(from, latest -> latest.values().stream()
      .allMatch(s -> s.status() == 200 && s.members() == members));
  }

  /** Seconds from {@code from} until every node had answered 200 (NaN if one never did). */
  double allReadySeconds(long from) {
    long last = from;
    for (NodeProcess n : nodes) {
      OptionalLong t = firstReadyAfter(n, from);
      if (t.isEmpty()) {
        return Double.NaN;
      }
      last = Math.max(last, t.getAsLong());
    }
    return (last - from) / 1000.0;
  }
}
