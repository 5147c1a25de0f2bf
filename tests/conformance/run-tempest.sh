#!/usr/bin/env bash
# Tempest's image API tests against this checkout, with a real Keystone.
#
#   tests/conformance/run-tempest.sh [extra tempest run args]
#
# Uses the shared conformance kit (GLANCE_CONFORMANCE_KIT, by default
# ../shared/conformance beside this repository): starts its Keystone if it
# is not running, starts two glance-api nodes of this checkout with the
# keystone flavor on 127.0.0.1:9292 and :9293 (one deployment: they share
# the database and the stores), runs `tempest.sh RegionProject` with
# tempest-overrides.ini, and stops the two nodes.
#
# The nodes are configured as ../shared/conformance/upstream-glance.sh
# configures upstream: stores file1 (weight 100), file2 (weight 50) and the
# read-only http store "web", locations shown, and loopback (the test
# image server, any port) let through [import_filtering_opts].
#
# Metadata definitions have no Tempest feature flag; until this service
# serves them their tests are left out by EXCLUDE (an --exclude-regex).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
KIT="${GLANCE_CONFORMANCE_KIT:-$REPO/../shared/conformance}"
GLANCE_API="${GLANCE_API:-$(command -v glance-api || echo "$REPO/.venv/bin/glance-api")}"
STATE="${GLANCE_CONFORMANCE_STATE:-$HOME/.cache/glance-project-conformance}"
EXCLUDE="${EXCLUDE:-tempest\.api\.image\.v2\.(admin\.)?test_images_metadefs}"

rm -rf "$STATE"
mkdir -p "$STATE/file1" "$STATE/file2" "$STATE/staging" "$STATE/tasks"
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
enabled_backends = file1:file, file2:file, web:http
show_image_direct_url = True
show_multiple_locations = True
hashing_algorithm = sha512
[database]
connection = sqlite:///$STATE/glance.sqlite
[glance_store]
default_backend = file1
[file1]
filesystem_store_datadir = $STATE/file1
store_description = first filesystem store
weight = 100
[file2]
filesystem_store_datadir = $STATE/file2
store_description = second filesystem store
weight = 50
[web]
store_description = read-only http store
[os_glance_staging_store]
filesystem_store_datadir = $STATE/staging
[os_glance_tasks_store]
filesystem_store_datadir = $STATE/tasks
[import_filtering_opts]
allowed_hosts = [127.0.0.1]
allowed_ports = []
[image_format]
# As upstream's kit runs it, paired with Tempest's image_format_enforcement
# = False: ListUserImagesTest uploads random bytes as qcow2, vhd, ...
require_image_format_match = False
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
  # GLANCE_TEMPEST_EXTRA_CONFIG: a file read after this one, e.g. to make
  # file1 and file2 stores of other types (its sections override these).
  setsid "$GLANCE_API" --config-file "$conf" \
    ${GLANCE_TEMPEST_EXTRA_CONFIG:+--config-file "$GLANCE_TEMPEST_EXTRA_CONFIG"} \
    >"$STATE/glance-api-$port.out" 2>&1 &
  PIDS+=("$!")
done
for port in 9292 9293; do
  for _ in $(seq 60); do
    curl -s -o /dev/null "http://127.0.0.1:$port/versions" && break; sleep 0.5
  done
done

TEMPEST_OVERRIDES="$HERE/tempest-overrides.ini" \
  "$KIT/tempest.sh" RegionProject --exclude-regex "$EXCLUDE" "$@"
