#!/usr/bin/env bash
# Builds the images of docker-compose.yml with no registry: evoflow:local (FROM scratch: the
# release binary, the shared libraries ldd lists, a non-root user, /data) and
# evoflow-prometheus:local (Debian's prometheus binary, its libraries, monitoring/prometheus.yml
# and alerts.yml).
#
# usage: docker/build-images.sh [EVOFLOW_BINARY]
#   EVOFLOW_BINARY  default: $CARGO_TARGET_DIR/release/evoflow, else target/release/evoflow
#   PROMETHEUS      the prometheus binary to package (default: `command -v prometheus`;
#                   Debian: apt-get install -y prometheus)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bin="${1:-${CARGO_TARGET_DIR:-$root/target}/release/evoflow}"
prom="${PROMETHEUS:-$(command -v prometheus || true)}"
uid=10001

die() { echo "build-images.sh: $*" >&2; exit 1; }
command -v docker >/dev/null || die "docker is not installed (Debian: apt-get install -y docker.io docker-compose)"
docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable (is dockerd running? try: service docker start)"
[ -x "$bin" ] || die "no evoflow binary at $bin (build it: cargo build --release)"
[ -n "$prom" ] && [ -x "$prom" ] || die "no prometheus binary (Debian: apt-get install -y prometheus, or set PROMETHEUS=/path)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Copies every shared library ldd lists for $1 (with the dynamic loader) into the root
# file system $2, at their own absolute paths (nothing for a static binary).
copy_libs() {
    local file="$1" rootfs="$2"
    ldd "$file" 2>/dev/null | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
        [ -e "$lib" ] || continue
        mkdir -p "$rootfs$(dirname "$lib")"
        cp -L "$lib" "$rootfs$lib"
    done
}

# evoflow:local
rt="$work/evoflow/rootfs"
mkdir -p "$rt/etc/evoflow" "$rt/tmp" "$work/evoflow/data"
cp -L "$bin" "$rt/evoflow"
copy_libs "$bin" "$rt"
printf 'root:x:0:0:root:/:/sbin/nologin\nevoflow:x:%d:%d:evoflow:/data:/sbin/nologin\n' "$uid" "$uid" > "$rt/etc/passwd"
printf 'root:x:0:\nevoflow:x:%d:\n' "$uid" > "$rt/etc/group"
printf 'hosts: files dns\n' > "$rt/etc/nsswitch.conf"
cp "$root/hosts/compose.txt" "$rt/etc/evoflow/hosts.txt"
chmod 1777 "$rt/tmp"
cat > "$work/evoflow/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
COPY --chown=$uid:$uid data/ /data/
USER $uid:$uid
WORKDIR /data
ENV EVOFLOW_STORAGE=shared EVOFLOW_SHARED_DIR=/data
VOLUME /data
EXPOSE 2101 9464
ENTRYPOINT ["/evoflow"]
CMD ["--help"]
DOCKERFILE
docker build -q -t evoflow:local "$work/evoflow" >/dev/null
echo "built evoflow:local from $bin ($(docker run --rm evoflow:local --version))"

# evoflow-prometheus:local
pr="$work/prometheus/rootfs"
mkdir -p "$pr/etc/prometheus" "$pr/tmp" "$work/prometheus/data"
mkdir -p "$pr/bin"
cp -L "$prom" "$pr/bin/prometheus"
copy_libs "$prom" "$pr"
tool="$(dirname "$prom")/promtool"   # the healthcheck's `promtool check healthy`
[ -x "$tool" ] || die "no promtool next to $prom"
cp -L "$tool" "$pr/bin/promtool"
copy_libs "$tool" "$pr"
printf 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/prometheus:/sbin/nologin\n' > "$pr/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$pr/etc/group"
printf 'hosts: files dns\n' > "$pr/etc/nsswitch.conf"
# The configuration and alert rules of monitoring/ (its targets/ are for local runs only).
cp "$root/monitoring/prometheus.yml" "$pr/etc/prometheus/prometheus.yml"
cp "$root/monitoring/alerts.yml" "$pr/etc/prometheus/alerts.yml"
chmod 1777 "$pr/tmp"
cat > "$work/prometheus/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
COPY --chown=65534:65534 data/ /prometheus/
USER 65534:65534
VOLUME /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--web.listen-address=:9090"]
DOCKERFILE
docker build -q -t evoflow-prometheus:local "$work/prometheus" >/dev/null
echo "built evoflow-prometheus:local from $prom"
