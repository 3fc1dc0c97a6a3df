# The catalog's database in the compose stack (decision 0011): Debian's PostgreSQL, one cluster in
# the `metastore-db` volume, created at first start by docker/metastore-db.sh with the login from
# .env (`make compose-env`: LAKE_METASTORE_DB_PASSWORD) and the database `metastore`. Every lake
# container's Spark driver keeps the Hive metastore there (LAKE__CATALOG__URL), so a table
# registered by the runner is found by name in every other container.
FROM debian:bookworm-slim
# No cluster made by the package (`main`, owned by the package's scripts): ours is in the volume.
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data
COPY docker/metastore-db.sh /usr/local/bin/metastore-db
ENV PGDATA=/var/lib/postgresql/data
# PostgreSQL refuses to run as root; the volume takes this directory's owner when first mounted.
USER postgres
EXPOSE 5432
ENTRYPOINT ["sh", "/usr/local/bin/metastore-db"]
