#!/bin/sh
# Runs once, at InfluxDB 2.x's first start (docker-entrypoint-initdb.d), after the setup
# of DOCKER_INFLUXDB_INIT_*: creates the API's own bucket (rollups and its records, kept
# for good) and one token per service with only the rights it needs, written to
# /var/lib/smartplace-tokens for the services (docs/storage.md):
#   ingest   write the readings bucket
#   api      read the readings bucket; read and write its own bucket
#   grafana  read both
set -eu
out=/var/lib/smartplace-tokens
readings="${DOCKER_INFLUXDB_INIT_BUCKET}"
own="${API_BUCKET:-smartplace_derived}"

influx bucket create --name "$own" --org "$DOCKER_INFLUXDB_INIT_ORG" --retention 0 >/dev/null
readings_id=$(influx bucket list --name "$readings" --hide-headers | cut -f1)
own_id=$(influx bucket list --name "$own" --hide-headers | cut -f1)

token() {  # description, then the influx auth create flags
    description=$1; shift
    influx auth create --org "$DOCKER_INFLUXDB_INIT_ORG" --description "$description" \
        --hide-headers "$@" | cut -f3
}

mkdir -p "$out"
token smartplace-ingest --write-bucket "$readings_id" > "$out/ingest.token"
token smartplace-api --read-bucket "$readings_id" --read-bucket "$own_id" \
    --write-bucket "$own_id" > "$out/api.token"
token smartplace-grafana --read-bucket "$readings_id" --read-bucket "$own_id" \
    > "$out/grafana.token"
chmod 0644 "$out"/*.token
echo "smartplace: bucket $own and per-service tokens written to $out"
