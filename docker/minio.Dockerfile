# MinIO, the pinned community build (lake.toml minio.version): the binary `make minio` built from
# source in the user cache (docs/decisions/0002-minio-from-source.md), copied from the artifacts
# image `lake setup docker` builds. No Go toolchain in the image, no package to install.
ARG ARTIFACTS=meae-datalake/artifacts:missing-run-lake-setup-docker
FROM ${ARTIFACTS} AS artifacts

FROM debian:bookworm-slim
ARG MINIO_VERSION
LABEL org.opencontainers.image.version="${MINIO_VERSION}"
RUN useradd --system --home /data minio && mkdir -p /data && chown minio /data
COPY --from=artifacts /artifacts/minio /usr/local/bin/minio
USER minio
EXPOSE 9000 9001
ENTRYPOINT ["minio"]
CMD ["server", "/data", "--address", ":9000", "--console-address", ":9001"]
