# ActorImages node image. Build: docker compose build (or docker build -t actorimages .).
# Stage 1 builds the node with Maven; stage 2 is a plain JRE with the node jar, its lib/ and the profiles.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY messages messages
COPY storage storage
COPY node node
COPY cli/pom.xml cli/pom.xml
COPY tests/pom.xml tests/pom.xml
RUN mvn -B -q -DskipTests -pl node -am package \
 && cp node/target/node-*.jar /src/node.jar

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/node.jar /app/node.jar
COPY --from=build /src/node/target/lib /app/lib
COPY hocon /app/hocon
COPY docker/entrypoint.sh /app/entrypoint.sh
VOLUME /var/lib/actorimages
# P1 ingest, P2 WebSocket, P3 tracker (UDP), P4 peer GET, HTTP API, Pekko Management, cluster remoting
EXPOSE 5001 8765 13377/udp 13378 8080 8558 25520
ENTRYPOINT ["/app/entrypoint.sh"]
