#!/bin/bash
# Container healthcheck: healthy when the node's GET /ready answers 200 (an Up member with every listener bound).
# The runtime image has no curl, so this speaks HTTP/1.0 over bash's /dev/tcp. The node listens on the container's
# IP, not on 127.0.0.1: docker/entrypoint.sh leaves that address in /run/actorimages/host.
set -u
host="$(cat /run/actorimages/host 2>/dev/null || cat /tmp/host 2>/dev/null || true)"
host="${host:-${ACTORIMAGES_HOST:-127.0.0.1}}"
port="${ACTORIMAGES_HTTP_PORT:-8080}"
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /ready HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
IFS= read -r -t 5 status <&3 || exit 1
[[ "$status" =~ ^HTTP/1\.[01]\ 200 ]]
