# Schemata in a container: built with cargo in the Rust image, run from Debian slim as a
# non-root user with its data in the /data volume.
#   docker build -t schemata .
#   docker run -d -p 8081:8081 -v schemata-data:/data schemata

FROM rust:1.95-slim-bookworm AS build
# librdkafka (the Kafka store's client) is built from source: its configure wants a C and a C++
# compiler and make; TLS links the system OpenSSL (found with pkg-config), compression zlib.
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ make pkg-config libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
# A smaller binary for the image (a fifth smaller), at the cost of a slower final link: no
# symbols (panics still name their location), and the whole program optimized as one unit.
# Set here, not in Cargo.toml, so that `cargo run --release` and the benches build quickly.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_PROFILE_RELEASE_LTO=fat \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
WORKDIR /src
# The dependencies in their own layer, rebuilt only when a manifest or the lock file changes: the
# workspace's manifests with stub sources (an empty library, an empty main, and an empty file for
# every declared bench, as cargo wants them to exist).
COPY Cargo.toml Cargo.lock ./
COPY codec/Cargo.toml codec/Cargo.toml
RUN for dir in . codec; do \
        mkdir -p "$dir/src" "$dir/benches" && touch "$dir/src/lib.rs"; \
        for bench in $(awk -F'"' '/^\[\[bench\]\]/ { b = 1; next } b && /^name *=/ { print $2; b = 0 }' "$dir/Cargo.toml"); do \
            echo 'fn main() {}' > "$dir/benches/$bench.rs"; \
        done; \
    done \
    && echo 'fn main() {}' > src/main.rs \
    && cargo build --release --locked --bin schemata \
    && rm -rf src benches codec/src codec/benches
COPY openapi.yaml openapi.yaml
COPY codec codec
COPY benches benches
COPY src src
# The web UI's files, embedded in the binary (src/api/ui.rs).
COPY ui ui
# The copied sources keep their own times, older than the stubs' build: touch the crate roots so
# cargo rebuilds the workspace's crates.
RUN touch src/main.rs src/lib.rs codec/src/lib.rs \
    && cargo build --release --locked --bin schemata

FROM debian:bookworm-slim
# OpenSSL's library for librdkafka's TLS (linked dynamically). The CA bundle is copied from the
# Rust image (which has ca-certificates) rather than installed: Debian's ca-certificates package
# pulls in the openssl command line tool, a third of this layer. OpenSSL finds the bundle
# through SSL_CERT_FILE.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/apt /var/log/dpkg.log \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin schemata \
    && mkdir /data && chown schemata:schemata /data
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
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
