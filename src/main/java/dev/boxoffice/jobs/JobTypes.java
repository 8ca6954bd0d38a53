package dev.boxoffice.jobs;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/** Catalogue of job types, filled by each feature at start-up, so any node can enqueue any type with its policy. */
public final class JobTypes {
  private static final Map<String, JobType> TYPES = new ConcurrentHashMap<>();

  private JobTypes() {
  }

  public static void register(JobType... types) {
    for (JobType t : types) {
      TYPES.put(t.name(), t);
    }
  }

  public static Optional<JobType> find(String name) {
    return Optional.ofNullable(TYPES.get(name));
  }

  /** Every registered type. */
  public static List<JobType> all() {
    return List.copyOf(TYPES.values());
  }

  /** The queues of every registered type. */
  public static Set<String> queues() {
    return TYPES.values().stream().map(JobType::queue).collect(Collectors.toCollection(TreeSet::new));
  }

  public static JobType get(String name) {
    JobType t = TYPES.get(name);
    if (t == null) {
      throw new IllegalArgumentException("unknown job type " + name);
    }
    return t;
  }
}
