# Schemata in a container: built with cargo in the Rust image, run from Debian slim as a
# non-root user with its data in the /data volume.
#   docker build -t schemata .
#   docker run -d -p 8081:8081 -v schemata-data:/data schemata

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
COPY openapi.yaml openapi.yaml
# The web UI's files, embedded in the binary (src/api/ui.rs).
COPY ui ui
RUN cargo build --release --locked --bin schemata

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin schemata \
    && mkdir /data && chown schemata:schemata /data
COPY --from=build /src/target/release/schemata /usr/local/bin/schemata
ENV SCHEMATA_LISTEN=0.0.0.0:8081
ENV SCHEMATA_DATA_DIR=/data
ENV SCHEMATA_LOG_FORMAT=json
USER schemata
VOLUME /data
EXPOSE 8081
# Slim images have no curl: the binary asks its own /health/ready.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["schemata", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["schemata"]
CMD ["serve"]
