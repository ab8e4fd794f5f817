# syntax=docker/dockerfile:1
#
# leadflow image: both binaries (`worker` and `starter`) in one small, non-root
# image. There is no ENTRYPOINT: the command picks the binary, e.g.
#   docker run IMAGE worker
#   docker run IMAGE starter serve
#   docker run IMAGE starter db migrate
# Build: docker build -t leadflow .   (needs Docker; see docker-compose.yml)

############################ build ############################
FROM golang:1.26 AS build
WORKDIR /src

# Modules first, so a source change does not re-download them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
# Static binaries (pgx is pure Go; no cgo), no local paths in the binaries.
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/ ./worker ./starter

############################ runtime ##########################
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /out/starter /usr/local/bin/
# The handoff contract and the sales directory as shipped. In Kubernetes the
# policy comes from a ConfigMap instead (deploy/k8s); LEADFLOW_POLICY points there.
COPY deploy/policy.yaml /etc/leadflow/policy.yaml
COPY deploy/directory.yaml /etc/leadflow/directory.yaml
ENV LEADFLOW_POLICY=/etc/leadflow/policy.yaml
# The Worker Deployment build ID (docs/upgrading.md): the build above has no
# .git, so no VCS stamp; pass one, e.g.
#   docker build --build-arg LEADFLOW_BUILD_ID=$(git rev-parse --short=12 HEAD) .
# Unset, the worker runs unversioned without one (LEADFLOW_WORKER_VERSIONING=on refuses).
ARG LEADFLOW_BUILD_ID=
ENV LEADFLOW_BUILD_ID=${LEADFLOW_BUILD_ID}
# 8080: `starter serve` (LEADFLOW_HTTP_ADDR); 9090: worker metrics (LEADFLOW_METRICS_ADDR).
EXPOSE 8080 9090
USER nonroot:nonroot
CMD ["worker"]
