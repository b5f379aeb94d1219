#!/bin/sh
# Starts one ActorImages node in a container: the node binds and advertises the container's own IP (the other
# nodes and the legacy clients reach it there; LST lists it as the P4 holder), unless ACTORIMAGES_HOST is set.
set -eu
if [ -z "${ACTORIMAGES_HOST:-}" ]; then
  ACTORIMAGES_HOST="$(hostname -i | awk '{print $1}')"
  export ACTORIMAGES_HOST
fi
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
  ${JAVA_OPTS:--Xmx512m} -Dconfig.file=/app/hocon/container.conf -cp "/app/node.jar:/app/lib/*" \
  io.actorimages.node.Main
