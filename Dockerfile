# syntax=docker/dockerfile:1
# Build stage: install exact dependencies and compile one self-contained binary.
FROM oven/bun:1.4.5-debian AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

# Runtime stage: the binary, CA certificates, and a non-root user. Nothing else.
FROM debian:bookworm-slim
# DATA_DIR is created owned by huddle, so a named volume mounted there
# (compose.yaml) starts with that owner instead of root's.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/huddle --create-home huddle \
 && install -d -o huddle -g huddle /var/lib/huddle/data
COPY --from=build /src/dist/huddle /usr/local/bin/huddle
USER huddle
WORKDIR /var/lib/huddle
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/var/lib/huddle/data
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/health" || exit 1
ENTRYPOINT ["/usr/local/bin/huddle"]
CMD ["serve"]
