# The relay with the web app, for the full mode (docker-compose.yml).
# Build: docker build -t mdsim-relay .    Run: docker run -p 8080:8080 mdsim-relay

FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-unknown-unknown
COPY . .
# `cargo xtask build` installs the pinned Trunk and wasm-bindgen CLI from crates.io, Node.js
# and npm from Debian and binaryen's wasm-opt from npm, and builds the web app into dist/
# (with precompressed .gz/.br siblings); then the relay itself.
RUN cargo xtask build && cargo build --release --locked -p relay-server

FROM debian:bookworm-slim
RUN useradd --system --create-home --home-dir /var/lib/mdsim mdsim
COPY --from=build /src/target/release/relay-server /usr/local/bin/relay-server
COPY --from=build /src/dist /srv/mdsim/dist
USER mdsim
# Every flag has an MDSIM_* variable; compose adds --nats-url and --database-url.
ENV MDSIM_BIND=0.0.0.0 \
    MDSIM_PORT=8080 \
    MDSIM_DIST_DIR=/srv/mdsim/dist \
    MDSIM_DATA_DIR=/var/lib/mdsim \
    MDSIM_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["relay-server"]
