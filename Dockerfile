# driftgate as a container image: the release binary only, run as a
# non-root user. docs/ci.md uses it for the Cloud Run Job on Cloud Scheduler.
#
#   docker build -t driftgate .
#   docker run --rm -v "$PWD:/work" driftgate check --offline
#   gcloud builds submit --tag REGION-docker.pkg.dev/PROJECT/REPO/driftgate:TAG .
#
# The image is not published anywhere: build it from this repository.
# scripts/lint-ecosystem.sh lints this file with hadolint; the machine it was
# written on has no Docker engine, so a `docker build` is the reviewer's to run.
#
# No BuildKit-only syntax (cache mounts, heredocs): Cloud Build's default
# docker builder and the legacy builder must both take it.

# The builder: any current stable Rust (Cargo.toml's rust-version is the
# floor). aws-lc-sys (rustls' crypto) builds its C with the `cc` crate on
# x86_64 and aarch64 Linux, so gcc and libc6-dev (both in rust:slim) are all
# it needs: no cmake, no clang, no Go.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin driftgate \
 && install -D -m 0755 target/release/driftgate /out/driftgate

# The runtime: glibc, libgcc and CA certificates (driftgate reads the
# system's root certificates for Google's APIs and for the probes), no
# shell, no package manager; uid 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/driftgate /usr/local/bin/driftgate
# The known-JWT-secrets table compiled into the binary comes from an MIT list:
# its notice ships with it.
COPY data/known-jwt-secrets/LICENSE-wallarm-jwt-secrets /usr/share/doc/driftgate/
# Mount or copy driftgate.toml here, or point DRIFTGATE_CONFIG at it.
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["driftgate"]
CMD ["check"]
