#!/usr/bin/env bash
# Job engine benchmark, run by hand (not in CI):
#   bench/jobs.sh                 # 100,000 no-op jobs + 2,000 delayed jobs against local Postgres/Redis
#   JOBS=20000 bench/jobs.sh      # smaller run
# Uses BOXOFFICE_TEST_PG_URI / BOXOFFICE_TEST_REDIS_URI (defaults: the local servers on 5432/6379).
set -euo pipefail
cd "$(dirname "$0")/.."
export BOXOFFICE_TEST_PG_URI="${BOXOFFICE_TEST_PG_URI:-postgresql://postgres@127.0.0.1:5432/postgres}"
export BOXOFFICE_TEST_REDIS_URI="${BOXOFFICE_TEST_REDIS_URI:-redis://127.0.0.1:6379}"
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
java -Xmx2g -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" \
  -Djobs="${JOBS:-100000}" -Dbatch="${BATCH:-1000}" -Ddelayed="${DELAYED:-2000}" \
  -Dclaim="${CLAIM:-512}" -Dconcurrency="${CONCURRENCY:-1024}" \
  dev.boxoffice.bench.JobEngineBench 2>&1 | grep -E '^(jobs|delayed):'
