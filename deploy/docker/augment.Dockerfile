# paddock-augment (CUDA): `paddock serve augment` on an NVIDIA CUDA 12 + cuDNN runtime, Node 20 copied in.
# Build from the repository root: docker build -f deploy/docker/augment.Dockerfile -t paddock-augment .
# The same image runs on CPU nodes (PADDOCK_DEVICE=cpu, the default).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs ./libs
COPY apps ./apps
# cuda12: onnxruntime-node fetches its CUDA execution provider at install time.
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 AS runtime
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 10001 paddock && useradd --uid 10001 --gid paddock --no-create-home paddock \
  && mkdir -p /runs /data && chown paddock:paddock /runs
WORKDIR /app
COPY --from=build --chown=paddock:paddock /app ./
USER 10001
ENV NODE_ENV=production PADDOCK_GRPC_PORT=50051 PADDOCK_RUNS_DIR=/runs PADDOCK_DATA_ROOTS=/data PADDOCK_DEVICE=cpu
EXPOSE 50051
ENTRYPOINT ["node", "apps/cli/bin/paddock.js", "serve", "augment"]
