#!/usr/bin/env bash
# Builds the project's Dockerfile, unchanged, with podman and runs the image: a named volume on
# /data, a schema registered over HTTP, the health check, the process's uid (not root), a
# restart that keeps the schema (read back by id and by subject/version), and SIGTERM stops
# that exit 0. Prints the image's size and what it adds to its base image.
#
# No container registry is needed: when podman's storage lacks the images the Dockerfile's FROM
# lines name, they are made here: debian:bookworm-slim from a debootstrap rootfs (Debian's
# packages, the tarball cached in $SCHEMATA_CONTAINER_CACHE), and rust:<version>-slim-bookworm
# as that rootfs with what the official image holds (gcc, libc6-dev, ca-certificates) and this
# machine's Rust toolchain, which must be the version the FROM line names. Both stay in podman's
# storage, as do the build's layers: a second run rebuilds only what changed.
#
# Installs podman, runc and debootstrap with apt-get when missing (as root). Skips, saying why
# loudly, only where podman cannot run a container; SCHEMATA_CONTAINER_REQUIRED=1 makes that
# skip a failure. Environment:
#   SCHEMATA_DEBIAN_MIRROR     Debian mirror for debootstrap (default: the one apt uses here)
#   SCHEMATA_CONTAINER_CACHE   rootfs tarball cache (default: ~/.cache/schemata/container)
#   SCHEMATA_CONTAINER_RUNTIME OCI runtime (default: /usr/sbin/runc when present)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=schemata:test
CACHE="${SCHEMATA_CONTAINER_CACHE:-$HOME/.cache/schemata/container}"
START=$SECONDS

log() { echo "container-test [$((SECONDS - START))s]: $*" >&2; }
fail() {
  echo "container-test: FAILED: $*" >&2
  exit 1
}
skip() {
  if [ "${SCHEMATA_CONTAINER_REQUIRED:-}" = 1 ]; then
    fail "podman cannot run here ($1) and SCHEMATA_CONTAINER_REQUIRED=1"
  fi
  echo "############################################################" >&2
  echo "container-test: SKIPPED: podman cannot run here: $1" >&2
  echo "############################################################" >&2
  exit 0
}

# --- (a) the tools -------------------------------------------------------------------------
missing=()
command -v podman >/dev/null || missing+=(podman)
[ -x /usr/sbin/runc ] || command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    skip "${missing[*]} missing, and they can be installed only as root with apt-get"
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"
# Sandboxes like the CI machines refuse rlimit changes and have no cgroup v2 controllers for
# systemd: containers get no default ulimits and cgroups are managed by podman itself. Written
# only where no configuration exists, so a machine's own settings win.
if [ "$(id -u)" = 0 ] && [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' >/etc/containers/containers.conf
fi
# crun, podman's default runtime, fails with cgroup errors in such sandboxes; runc works.
RUNTIME="${SCHEMATA_CONTAINER_RUNTIME:-}"
if [ -z "$RUNTIME" ] && [ -x /usr/sbin/runc ]; then RUNTIME=/usr/sbin/runc; fi
pm() {
  if [ -n "$RUNTIME" ]; then podman --runtime "$RUNTIME" "$@"; else podman "$@"; fi
}
# Without systemd (the CI sandboxes) podman cannot schedule the periodic health check and says
# so as an error at every start and stop; this test runs the check itself (podman healthcheck run).
pm_quiet() { pm "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }
pm info >/dev/null 2>&1 || skip "'podman info' fails: $(pm info 2>&1 | tail -1)"

# --- (b) the base images the Dockerfile names ------------------------------------------------
mapfile -t bases < <(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile)
[ "${#bases[@]}" = 2 ] || fail "expected two FROM lines in the Dockerfile, found: ${bases[*]}"
rust_base="docker.io/library/${bases[0]}"
debian_base="docker.io/library/${bases[1]}"
[[ "${bases[0]}" =~ ^rust:([0-9]+\.[0-9]+)-slim-([a-z]+)$ ]] || fail "build stage FROM ${bases[0]}: not rust:X.Y-slim-SUITE"
rust_version="${BASH_REMATCH[1]}"
suite="${BASH_REMATCH[2]}"
[ "${bases[1]}" = "debian:$suite-slim" ] || fail "runtime stage FROM ${bases[1]}: not debian:$suite-slim"

mirror="${SCHEMATA_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  # The mirror apt uses here (deb822 "URIs:" or one-line "deb" sources), else Debian's CDN.
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -Eo '(https?)://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')" || true
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

if ! pm image exists "$debian_base"; then
  rootfs_tar="$CACHE/debian-$suite-minbase.tar"
  if [ ! -s "$rootfs_tar" ]; then
    log "debootstrap --variant=minbase $suite from $mirror"
    mkdir -p "$CACHE"
    rootfs="$(mktemp -d)"
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
      fail "debootstrap failed: $(tail -5 "$rootfs.log")"
    # What the official slim images do (debuerreotype): no docs, man pages or locales from
    # packages installed later, no apt caches left in layers.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$rootfs"/usr/share/{info,locale,man}/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
    rm -f "$rootfs.log"
    tar -C "$rootfs" --numeric-owner -cf "$rootfs_tar.part" .
    mv "$rootfs_tar.part" "$rootfs_tar"
    rm -rf "$rootfs"
  fi
  log "importing $rootfs_tar as $debian_base"
  pm import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$rootfs_tar" "$debian_base" >/dev/null
fi

# Can podman run a container at all? The one reason to skip.
if ! out="$(pm run --rm "$debian_base" sh -c 'echo hello' 2>&1)" || [ "$out" != hello ]; then
  skip "a container does not run: $(echo "$out" | tail -3)"
fi

if ! pm image exists "$rust_base"; then
  sysroot="$(rustc --print sysroot 2>/dev/null)" || fail "no Rust toolchain here to make $rust_base"
  host_version="$(rustc --version | awk '{ print $2 }')"
  [[ "$host_version" == "$rust_version".* ]] ||
    fail "the Dockerfile builds with Rust $rust_version, this machine's toolchain is $host_version"
  toolchain="$host_version-$(rustc -vV | awk '/^host:/ { print $2 }')"
  log "making $rust_base: $debian_base, gcc, libc6-dev, ca-certificates and Rust $host_version"
  builder="schemata-rust-base-$$"
  trap 'podman rm -f "$builder" >/dev/null 2>&1 || true' EXIT
  # As the official image: the toolchain under RUSTUP_HOME, its commands in CARGO_HOME/bin.
  pm run --name "$builder" -v "$sysroot:/toolchain:ro" "$debian_base" sh -euc "
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev ca-certificates >/dev/null
    rm -rf /var/lib/apt/lists/*
    dest=/usr/local/rustup/toolchains/$toolchain
    mkdir -p \"\$dest\" /usr/local/cargo/bin
    tar -C /toolchain --exclude=./share/doc -cf - . | tar -C \"\$dest\" -xf -
    for b in \"\$dest\"/bin/*; do ln -s \"\$b\" /usr/local/cargo/bin/; done
    /usr/local/cargo/bin/cargo --version
  " >&2
  pm commit -q \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV RUST_VERSION=$host_version" --change 'CMD ["bash"]' \
    "$builder" "$rust_base" >/dev/null
  pm rm "$builder" >/dev/null
  trap - EXIT
fi

# --- (c) the image, from the unchanged Dockerfile --------------------------------------------
# The build stage is tagged too ($IMAGE-build): when a rebuild replaces either image, the old one
# and the layers only it used are removed, so old builds do not pile up in podman's storage while
# the dependency layer they share stays cached.
old_images=("$(pm image inspect --format '{{.Id}}' "$IMAGE-build" 2>/dev/null || true)"
  "$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)")
# Docker's image format: OCI's has no HEALTHCHECK.
build=(pm build ${RUNTIME:+--runtime "$RUNTIME"} --format docker)
build_start=$SECONDS
# Where TLS is intercepted (the CI machines), cargo fetches crates only if it trusts the host's CA
# certificates: the build stage is built first with the host's /etc/ssl/certs mounted read-only
# (a no-op elsewhere). Not in the whole build: the runtime stage copies the Rust image's own CA
# bundle from there. The image is then built from the whole, unchanged Dockerfile, the build stage
# coming from the layer cache.
certs=()
if [ -d /etc/ssl/certs ]; then certs=(-v /etc/ssl/certs:/etc/ssl/certs:ro); fi
log "podman build --target build -t $IMAGE-build ."
"${build[@]}" "${certs[@]}" --target build -t "$IMAGE-build" . >&2
log "podman build -t $IMAGE ."
"${build[@]}" -t "$IMAGE" . >&2
log "built in $((SECONDS - build_start))s"
new_images=("$(pm image inspect --format '{{.Id}}' "$IMAGE-build")" "$(pm image inspect --format '{{.Id}}' "$IMAGE")")
for i in 0 1; do
  if [ -n "${old_images[$i]}" ] && [ "${old_images[$i]}" != "${new_images[$i]}" ]; then
    pm rmi "${old_images[$i]}" >/dev/null 2>&1 || true
  fi
done

# --- (d) run it --------------------------------------------------------------------------------
name="schemata-test-$$"
volume="schemata-test-data-$$"
cleanup() {
  pm_quiet rm -f -t 0 "$name" >/dev/null 2>&1 || true
  pm volume rm -f "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
ct='Content-Type: application/vnd.schemaregistry.v1+json'

pm volume create "$volume" >/dev/null
pm_quiet run -d --name "$name" -p "127.0.0.1:$port:8081" -v "$volume:/data" "$IMAGE" >/dev/null

wait_ready() {
  for _ in $(seq 150); do
    if curl -fsS "$url/health/ready" >/dev/null 2>&1; then return 0; fi
    [ "$(pm inspect --format '{{.State.Running}}' "$name")" = true ] || break
    sleep 0.2
  done
  pm logs "$name" >&2 || true
  fail "the container did not become ready on $url"
}
stop_exit_0() {
  pm_quiet stop -t 20 "$name" >/dev/null
  code="$(pm inspect --format '{{.State.ExitCode}}' "$name")"
  [ "$code" = 0 ] || { pm logs "$name" >&2; fail "exit code $code after SIGTERM (podman stop), not 0"; }
  log "podman stop (SIGTERM): exit 0"
}

wait_ready
log "running on $url"
schema='{"type":"record","name":"Tick","fields":[{"name":"at","type":"long"}]}'
body="$(python3 -c 'import json, sys; print(json.dumps({"schema": sys.argv[1]}))' "$schema")"
id="$(curl -fsS -X POST -H "$ct" --data "$body" "$url/subjects/ticks-value/versions" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
log "registered schema id $id"

pm healthcheck run "$name" >/dev/null || fail "podman healthcheck run: unhealthy"
log "health check passes"
uid="$(pm exec "$name" sh -c 'awk "/^Uid:/ { print \$2 }" /proc/1/status')"
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "the server runs as uid '$uid'"
log "the server runs as uid $uid"
# The CA bundle librdkafka's OpenSSL trusts (copied from the build stage, named by SSL_CERT_FILE).
pm exec "$name" sh -c 'test -s "$SSL_CERT_FILE" && grep -q "BEGIN CERTIFICATE" "$SSL_CERT_FILE"' \
  || fail "no CA bundle at SSL_CERT_FILE in the image"
log "CA bundle present at \$SSL_CERT_FILE"

stop_exit_0
pm_quiet start "$name" >/dev/null
wait_ready
check_schema() { # URL: the response's "schema" is the registered one
  curl -fsS "$1" | python3 -c '
import json, sys
got = json.load(sys.stdin)["schema"]
want = sys.argv[1]
if json.loads(got) != json.loads(want):
    sys.exit(f"got {got}, want {want}")' "$schema" || fail "after the restart, $1"
}
check_schema "$url/schemas/ids/$id"
check_schema "$url/subjects/ticks-value/versions/1"
log "after a restart, schema $id read back by id and by subject/version"
stop_exit_0

# --- (e) the size --------------------------------------------------------------------------------
size="$(pm image inspect --format '{{.Size}}' "$IMAGE")"
base_size="$(pm image inspect --format '{{.Size}}' "$debian_base")"
added=$((size - base_size))
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
log "image $IMAGE: $(mb "$size"), $(mb "$added") over $debian_base ($(mb "$base_size"))"
# The goal is under 30 MB; far above it something is wrong (a build tree or toolchain copied in).
if [ "$added" -ge 60000000 ]; then fail "the image adds $(mb "$added") to its base"; fi
if [ "$added" -ge 30000000 ]; then log "WARNING: the image adds $(mb "$added"), the goal is under 30 MB"; fi
log "passed in $((SECONDS - START))s"
