# paddock-submission (CPU): `paddock serve submission`.
# Build from the repository root: docker build -f deploy/docker/submission.Dockerfile -t paddock-submission .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs ./libs
COPY apps ./apps
# skip: the CPU execution provider is bundled; no CUDA libraries are downloaded.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
RUN groupadd --gid 10001 paddock && useradd --uid 10001 --gid paddock --no-create-home paddock \
  && mkdir -p /runs /data && chown paddock:paddock /runs
WORKDIR /app
COPY --from=build --chown=paddock:paddock /app ./
USER 10001
ENV NODE_ENV=production PADDOCK_GRPC_PORT=50051 PADDOCK_RUNS_DIR=/runs PADDOCK_DATA_ROOTS=/data
EXPOSE 50051
ENTRYPOINT ["node", "apps/cli/bin/paddock.js", "serve", "submission"]
