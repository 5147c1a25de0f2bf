#!/usr/bin/env bash
# Tempest's image API tests against this checkout, with a real Keystone.
#
#   tests/conformance/run-tempest.sh [extra tempest run args]
#
# Uses the shared conformance kit (GLANCE_CONFORMANCE_KIT, by default
# ../shared/conformance beside this repository): starts its Keystone if it
# is not running, starts two glance-api nodes of this checkout with the
# keystone flavor on 127.0.0.1:9292 and :9293 (one deployment: they share
# the database and the image store), runs `tempest.sh RegionProject` with
# tempest-overrides.ini, and stops the two nodes.
#
# Metadata definitions and the tasks API have no Tempest feature flag;
# until this service serves them their tests are left out by
# EXCLUDE (an --exclude-regex).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
KIT="${GLANCE_CONFORMANCE_KIT:-$REPO/../shared/conformance}"
GLANCE_API="${GLANCE_API:-$(command -v glance-api || echo "$REPO/.venv/bin/glance-api")}"
STATE="${GLANCE_CONFORMANCE_STATE:-$HOME/.cache/glance-project-conformance}"
EXCLUDE="${EXCLUDE:-tempest\.api\.image\.v2\.(admin\.)?(test_images_metadefs|test_image_task)}"

rm -rf "$STATE"
mkdir -p "$STATE/images"
PIDS=()
stop_nodes() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap stop_nodes EXIT

"$KIT/keystone.sh" status >/dev/null 2>&1 || "$KIT/keystone.sh" start

for port in 9292 9293; do
  conf="$STATE/glance-api-$port.conf"
  cat >"$conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
workers = 2
state_path = $STATE
log_file = $STATE/glance-api-$port.log
[database]
connection = sqlite:///$STATE/glance.sqlite
[glance_store]
filesystem_store_datadir = $STATE/images
[paste_deploy]
flavor = keystone
config_file = $REPO/etc/glance-api-paste.ini
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000
auth_url = http://127.0.0.1:5000
auth_type = password
username = glance
password = glance-pass
project_name = service
user_domain_name = Default
project_domain_name = Default
service_token_roles_required = True
CONF
  setsid "$GLANCE_API" --config-file "$conf" >"$STATE/glance-api-$port.out" 2>&1 &
  PIDS+=("$!")
done
for port in 9292 9293; do
  for _ in $(seq 60); do
    curl -s -o /dev/null "http://127.0.0.1:$port/versions" && break; sleep 0.5
  done
done

TEMPEST_OVERRIDES="$HERE/tempest-overrides.ini" \
  "$KIT/tempest.sh" RegionProject --exclude-regex "$EXCLUDE" "$@"
