# The one lake image: Java 17 and Python 3.11 from Debian, the project in a venv with its pinned
# dependencies (-c constraints.txt), the Spark jars and reference files in place. It runs the
# runner (the Spark driver, `lake submit`), the Spark master and the Spark workers (pyspark's own
# bin/spark-class), so driver and executors share one interpreter and one set of packages, and
# the web application (`lake serve`). The jars come from the artifacts image `lake setup docker`
# builds from the user cache (`make jars`); no Maven and no Ivy at build or run time.
ARG ARTIFACTS=meae-datalake/artifacts:missing-run-lake-setup-docker
FROM ${ARTIFACTS} AS artifacts

# The runtime requirements, read from pyproject.toml: this layer changes with every pyproject
# edit, but the file it makes changes only with the dependency list, so the slow install below
# stays cached when a marker or a lint rule changes.
FROM debian:bookworm-slim AS requirements
COPY pyproject.toml /tmp/pyproject.toml
RUN awk '/^dependencies = \[/ {f = 1; next} f && /^\]/ {exit} f' /tmp/pyproject.toml \
    | sed -e 's/#.*//' | grep -o '"[^"]*"' | tr -d '"' > /requirements.txt \
    && echo "hatchling" >> /requirements.txt

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless python3 python3-venv \
       procps \
    && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/lake
# Dependencies first (the slow layer), pinned by constraints.txt: a code change rebuilds only the
# layers below.
COPY --from=requirements /requirements.txt /tmp/requirements.txt
COPY constraints.txt ./
RUN python3 -m venv /opt/venv \
    && pip install -q -c constraints.txt -r /tmp/requirements.txt
COPY --from=artifacts /artifacts/jars /opt/lake/jars
# The GX Data Docs assets (pinned npm tarballs, each checked against its SHA-512 integrity) are
# fetched here, at build time, from the npm registry (TLS through the base image's CAs): no
# container reaches the network for them (decision 0010). Only the module and its two error
# modules are copied, so this layer is rebuilt when the pinned list changes, not with the code.
COPY lake/__init__.py lake/errors.py /tmp/gx-assets/lake/
COPY quality/__init__.py quality/errors.py quality/data_docs_offline.py /tmp/gx-assets/quality/
ENV LAKE_CACHE_DIR=/opt/lake/cache
RUN PYTHONPATH=/tmp/gx-assets python -c \
       "from quality.data_docs_offline import ensure_assets; print('GX assets in', ensure_assets())" \
    && rm -rf /tmp/gx-assets
COPY pyproject.toml README.md lake.toml ./
COPY lake ./lake
COPY ingestion ./ingestion
COPY quality ./quality
COPY governance ./governance
COPY lifecycle ./lifecycle
COPY app ./app
RUN pip install -q --no-deps --no-build-isolation . && pip check
COPY jvm ./jvm
COPY contracts ./contracts
COPY policy ./policy
COPY samples ./samples
COPY reference ./reference
ENV LAKE_HOME=/opt/lake \
    LAKE__SPARK__JARS_DIR=/opt/lake/jars \
    SPARK_HOME=/opt/venv/lib/python3.11/site-packages/pyspark \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=/opt/venv/bin/python \
    SPARK_NO_DAEMONIZE=true
ENTRYPOINT ["lake"]
CMD ["status"]
