#!/bin/sh
# Start the metastore's PostgreSQL; on the first start (empty volume) create the cluster, the
# login METASTORE_DB_USER with METASTORE_DB_PASSWORD (scram-sha-256, never trust) and the
# database METASTORE_DB_NAME. Logins come over TCP with a password only; no Unix socket.
set -eu
: "${METASTORE_DB_USER:?set METASTORE_DB_USER}"
: "${METASTORE_DB_PASSWORD:?set METASTORE_DB_PASSWORD (make compose-env)}"
: "${METASTORE_DB_NAME:=metastore}"
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$METASTORE_DB_PASSWORD" > "$pwfile"
    "$BIN/initdb" -D "$PGDATA" -U "$METASTORE_DB_USER" --pwfile="$pwfile" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C > /dev/null
    rm -f "$pwfile"
    # the compose network's containers, with the password; initdb already allows loopback
    printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' \
        >> "$PGDATA/pg_hba.conf"
    echo "CREATE DATABASE \"$METASTORE_DB_NAME\";" \
        | "$BIN/postgres" --single -D "$PGDATA" postgres > /dev/null
    echo "metastore-db: cluster created, database $METASTORE_DB_NAME, login $METASTORE_DB_USER"
fi
exec "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*' -k '' -c max_connections=50
