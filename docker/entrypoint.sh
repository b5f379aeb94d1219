#!/bin/bash
# Starts one ActorImages node in a container (the image's ENTRYPOINT; docker-compose.yml runs it).
#
# - Address: the node binds and advertises the container's own IP, which the other nodes and the legacy clients
#   reach (P3 LST lists it as the P4 holder, so it must be an address, not a name), unless ACTORIMAGES_HOST is set.
# - Profile: ACTORIMAGES_CONFIG defaults to hocon/container.conf (Akka.Management's Cluster Bootstrap with DNS discovery).
# - Data: every replica of the compose service mounts the SAME named volume at /var/lib/actorimages (compose has
#   no per-replica named volume), so each container claims a slot of its own in it: the first of
#   /var/lib/actorimages/node-1, node-2, … whose lock file no live container holds (flock; the node process
#   inherits the lock and holds it until it exits). Slots are not keyed by the container's hostname: that is its
#   container id, new after every `docker compose down` / `up`, which would strand the data. After a down and an up
#   with the same --scale, the containers take slots 1..N again and find their files. ACTORIMAGES_DATA_DIR set
#   explicitly skips the slots.
# - Secrets (compose `secrets:`): /run/secrets/actorimages-admin-token becomes ACTORIMAGES_ADMIN_TOKEN unless that
#   is set; the cluster certificate /run/secrets/actorimages-cluster.pfx is passed as ACTORIMAGES_CLUSTER_CERT and
#   its password, /run/secrets/actorimages-cluster-cert-password, as ACTORIMAGES_CLUSTER_CERT_PASSWORD (remoting is
#   mutual TLS with it; a node without it refuses to start unless ACTORIMAGES_REMOTE_TLS=off).
#   Compose bind-mounts secret files with their host owner and mode (e.g. root, 0600), so, started as root, this
#   script reads them and hands the node a copy it can read, then runs the node as the image's user `app`.
set -euo pipefail

secrets=/run/secrets
handoff=/run/actorimages
data_root=/var/lib/actorimages

# --- address ---------------------------------------------------------------------------------------------------
first_ipv4() { grep -Eo '([0-9]{1,3}\.){3}[0-9]{1,3}' | head -n 1; }
if [[ -z "${ACTORIMAGES_HOST:-}" ]]; then
  ACTORIMAGES_HOST="$( (hostname -i 2>/dev/null || true) | tr ' ' '\n' | first_ipv4 || true)"
  if [[ -z "$ACTORIMAGES_HOST" ]]; then
    ACTORIMAGES_HOST="$(getent ahostsv4 "${HOSTNAME:-$(cat /etc/hostname)}" 2>/dev/null | first_ipv4 || true)"
  fi
  [[ -n "$ACTORIMAGES_HOST" ]] || { echo "entrypoint: cannot find the container's IP; set ACTORIMAGES_HOST" >&2; exit 1; }
fi
export ACTORIMAGES_HOST
export ACTORIMAGES_CONFIG="${ACTORIMAGES_CONFIG:-/app/hocon/container.conf}"
# The node chooses its own listeners (ACTORIMAGES_HTTP_PORT on ACTORIMAGES_HOST): not the base image's *:8080.
unset ASPNETCORE_HTTP_PORTS ASPNETCORE_URLS

mkdir -p "$handoff" 2>/dev/null || handoff=/tmp
echo "$ACTORIMAGES_HOST" >"$handoff/host"   # for docker/healthcheck.sh

# --- data slot -------------------------------------------------------------------------------------------------
if [[ -z "${ACTORIMAGES_DATA_DIR:-}" ]]; then
  for ((slot = 1; slot <= 1000; slot++)); do
    exec 9>>"$data_root/node-$slot.lock"
    if flock -n 9; then
      ACTORIMAGES_DATA_DIR="$data_root/node-$slot"
      echo "$(cat /etc/hostname) $ACTORIMAGES_HOST since $(date -u +%FT%TZ)" >"$data_root/node-$slot.owner"
      break
    fi
    exec 9>&-
  done
  [[ -n "${ACTORIMAGES_DATA_DIR:-}" ]] || { echo "entrypoint: no free data slot under $data_root" >&2; exit 1; }
  echo "entrypoint: node data in $ACTORIMAGES_DATA_DIR (slot $slot of the shared volume)" >&2
fi
mkdir -p "$ACTORIMAGES_DATA_DIR"
export ACTORIMAGES_DATA_DIR

# --- secrets ---------------------------------------------------------------------------------------------------
if [[ -z "${ACTORIMAGES_ADMIN_TOKEN:-}" && -r "$secrets/actorimages-admin-token" ]]; then
  ACTORIMAGES_ADMIN_TOKEN="$(tr -d ' \r\n' <"$secrets/actorimages-admin-token")"
  export ACTORIMAGES_ADMIN_TOKEN
fi
if [[ -z "${ACTORIMAGES_CLUSTER_CERT:-}" && -f "$secrets/actorimages-cluster.pfx" ]]; then
  export ACTORIMAGES_CLUSTER_CERT="$secrets/actorimages-cluster.pfx"
fi
if [[ -z "${ACTORIMAGES_CLUSTER_CERT_PASSWORD:-}" && -r "$secrets/actorimages-cluster-cert-password" ]]; then
  ACTORIMAGES_CLUSTER_CERT_PASSWORD="$(tr -d ' \r\n' <"$secrets/actorimages-cluster-cert-password")"
  export ACTORIMAGES_CLUSTER_CERT_PASSWORD
fi

# --- run the node ----------------------------------------------------------------------------------------------
node=(dotnet /app/ActorImages.Node.dll)
if [[ "$(id -u)" == 0 ]] && id app >/dev/null 2>&1 && command -v setpriv >/dev/null; then
  # The data slot: the volume may come from an older image or a root-run container; hand it to `app` once.
  if [[ "$(stat -c %U "$ACTORIMAGES_DATA_DIR")" != app ]]; then chown -R app:app "$ACTORIMAGES_DATA_DIR"; fi
  if [[ -n "${ACTORIMAGES_CLUSTER_CERT:-}" && -f "$ACTORIMAGES_CLUSTER_CERT" ]]; then
    install -m 0400 -o app -g app "$ACTORIMAGES_CLUSTER_CERT" "$handoff/cluster.pfx"
    ACTORIMAGES_CLUSTER_CERT="$handoff/cluster.pfx"
  fi
  export HOME=/home/app
  exec setpriv --reuid=app --regid=app --init-groups -- "${node[@]}"
fi
exec "${node[@]}"
