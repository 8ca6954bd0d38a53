# Sourced by bench/faults.sh and bench/net/net.sh (from the repository root, with step() defined): builds the jar
# once (unless it is newer than every source), the fault driver's classpath, and its classes when a driver source is
# newer than the class named by $1 (the driver's entry point, e.g. FaultHarness).
mvn_q() { mvn -o -q -B "$@" || mvn -q -B "$@"; } # offline when ~/.m2 has everything, else online

build_driver() {
  local main="target/test-classes/dev/boxoffice/faults/$1.class"
  local newest_source
  newest_source=$(find src/main pom.xml -type f -newer target/boxoffice.jar 2>/dev/null | head -1 || true)
  if [ ! -f target/boxoffice.jar ] || [ -n "$newest_source" ]; then
    step "building target/boxoffice.jar"
    mvn_q package -DskipTests
  fi
  if [ ! -f target/faults.classpath ] || [ pom.xml -nt target/faults.classpath ]; then
    mvn_q dependency:build-classpath -Dmdep.outputFile=target/faults.classpath -Dmdep.includeScope=test
  fi
  if [ ! -f "$main" ] || [ -n "$(find src/test/java/dev/boxoffice/faults -newer "$main" | head -1)" ]; then
    step "compiling the driver"
    mvn_q test-compile
  fi
}
