#!/bin/sh
# One database and one role per service; each service owns its database (no shared schema).
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d).
set -eu

for service in triage booking referrals metrics; do
    var="POSTGRES_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
    password="$(printenv "$var" || true)"
    if [ -z "$password" ]; then
        echo "init-databases: $var is not set" >&2
        exit 1
    fi
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v service="$service" -v password="$password" <<'SQL'
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
done
