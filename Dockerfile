# Build: docker build -t boxoffice .   (docker-compose.yml does this for you)
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY . .
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/target/boxoffice.jar /app/boxoffice.jar
COPY conf /app/conf
EXPOSE 8080 5701
# JSON log lines for the container's log, even under `docker run -t` (unset, a terminal would get TEXT)
ENV BOXOFFICE_LOG_FORMAT=json
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/boxoffice.jar"]
