# The cocktail-pkg image: the CLI (and `serve`) on a small Debian base, running as a non-root user.
#   docker build -t cocktail-pkg .
#   docker run --rm cocktail-pkg --version
# The catalog package `cocktail-upgrader` runs it as a CronJob (`cocktail-pkg upgrade --auto`).

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Everything the build reads: the manifest and lock file, build.rs (which embeds index/, the built-in catalog's
# index, in the binary), .cargo/config.toml (how mimalloc is compiled), the workspace crates (gotpl, the template
# engine; fake-kube, a dev-dependency whose manifest the workspace still loads), the sources, and benches/
# (Cargo.toml declares [[bench]] targets, which must exist even though they are not built).
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo/ .cargo/
COPY crates/ crates/
COPY src/ src/
COPY index/ index/
COPY benches/ benches/
RUN cargo build --release --locked --bin cocktail-pkg \
    && install -D -m 0755 target/release/cocktail-pkg /out/cocktail-pkg

FROM debian:bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="cocktail-pkg" \
      org.opencontainers.image.description="A package manager for Kubernetes service maps: catalog, values, rendering, releases and automatic upgrades" \
      org.opencontainers.image.source="https://github.com/cocktail-pkg/cocktail-pkg" \
      org.opencontainers.image.url="https://cocktail-pkg.dev" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# CA certificates for HTTPS to repositories, webhooks and the Kubernetes API (rustls reads the system store).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o 65532 -g 65532 -m 0755 /home/nonroot
COPY --from=build /out/cocktail-pkg /usr/local/bin/cocktail-pkg
# uid/gid 65532 has no passwd entry: give it a writable home for ~/.config/cocktail-pkg and ~/.cache/cocktail-pkg
# (COCKTAIL_PKG_CONFIG_HOME and COCKTAIL_PKG_CACHE_HOME override them, as the cocktail-upgrader package does).
ENV HOME=/home/nonroot
WORKDIR /home/nonroot
USER 65532:65532
ENTRYPOINT ["cocktail-pkg"]
CMD ["--help"]
