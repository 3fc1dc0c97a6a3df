# The `lake` image: the project, its pinned Python stack, Java 17 and the Spark jars copied in
# place (no Ivy, no Maven at run time). It is the Spark *driver*: jobs run with `lake submit`.
FROM maven:3.9-eclipse-temurin-17 AS jars
COPY jvm/pom.xml /build/pom.xml
RUN mvn -B -q -f /build/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory=/jars

FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/lake
COPY pyproject.toml constraints.txt README.md lake.toml ./
COPY jvm ./jvm
COPY lake ./lake
COPY ingestion ./ingestion
COPY quality ./quality
COPY governance ./governance
COPY lifecycle ./lifecycle
COPY app ./app
COPY contracts ./contracts
COPY policy ./policy
COPY samples ./samples
RUN pip install --no-cache-dir -c constraints.txt .
COPY --from=jars /jars /opt/lake/jars
ENV LAKE_HOME=/opt/lake \
    LAKE__SPARK__JARS_DIR=/opt/lake/jars \
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
ENTRYPOINT ["lake"]
CMD ["status"]
