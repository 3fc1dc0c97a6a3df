# MinIO community edition is source-only since late 2025: build the same pinned version as
# `make minio` (lake.toml minio.version), exactly as docs/decisions/0002-minio-from-source.md says.
FROM golang:1.26-bookworm AS build
ARG MINIO_VERSION
RUN test -n "$MINIO_VERSION" && \
    CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOBIN=/out go install "github.com/minio/minio@${MINIO_VERSION}"

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /data minio \
    && mkdir -p /data && chown minio /data
COPY --from=build /out/minio /usr/local/bin/minio
USER minio
EXPOSE 9000 9001
ENTRYPOINT ["minio"]
CMD ["server", "/data", "--address", ":9000", "--console-address", ":9001"]
