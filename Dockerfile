# syntax=docker/dockerfile:1
# The `toolhost serve` image: docs/DEPLOY.md. Two stages: a Rust builder that compiles the
# ConnectWise RMM plugin component and the host (which embeds it), and a slim Debian runtime
# with only the binary and a non-root user. The binary links nothing beyond glibc (no
# OpenSSL: passkeys use RustCrypto, TLS is rustls with compiled-in webpki roots), so the
# runtime installs no packages.
#
#   docker build -t toolhost .
#   docker run --rm -p 8080:8080 -e TOOLHOST_PUBLIC_HOSTS=localhost ... toolhost

# --- builder ---------------------------------------------------------------------------
# The toolchain CI tests with (the plugin's size budget is measured with it).
FROM rust:1.95-slim-bookworm AS builder
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# The plugin first, as its own workspace with its size-tuned release profile; the host's
# build script then bundles exactly this component (TOOLHOST_BUNDLED_PLUGIN) instead of
# building it a second time.
RUN cargo build --locked --release --target wasm32-wasip2 --manifest-path plugin/Cargo.toml
RUN TOOLHOST_BUNDLED_PLUGIN=/src/plugin/target/wasm32-wasip2/release/cw_rmm_plugin.wasm \
    cargo build --locked --release -p toolhost \
 && install -D -m 0755 target/release/toolhost /out/toolhost

# --- runtime ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# A fixed uid/gid, so Kubernetes' runAsNonRoot can check it and fsGroup can match it.
RUN groupadd --system --gid 10001 toolhost \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/toolhost --no-create-home \
      --shell /usr/sbin/nologin toolhost \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/toolhost
COPY --from=builder /out/toolhost /usr/local/bin/toolhost
# The home holds the compile cache and, with the embedded backend, every piece of state:
# mount a volume there (or an emptyDir when the state is in PostgreSQL).
ENV TOOLHOST_HOME=/var/lib/toolhost \
    TOOLHOST_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/toolhost"]
USER 10001:10001
EXPOSE 8080
# No HEALTHCHECK: the image has no HTTP client, and orchestrators probe /healthz and /readyz
# themselves (deploy/kubernetes/deployment.yaml).
ENTRYPOINT ["toolhost", "serve"]
