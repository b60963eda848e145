# syntax=docker/dockerfile:1
#
# Container image for vocode_exporter.
#
#   make docker                      # passes VERSION, REVISION, BRANCH, BUILD_DATE
#   docker build -t vocode_exporter .
#
# internal/release/dockerfile_test.go parses this file: it runs the builder's
# `go build` line as written and checks the result is a static ELF, and checks
# the final stage (non-root USER, EXPOSE 10401, ENTRYPOINT). Keep the build on a
# single RUN line of the form `RUN [--mount=...] VAR=value ... go build ...`.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS builder
WORKDIR /src

# Module downloads get their own layer so source edits do not refetch them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .

# Platform arguments are filled in by BuildKit (docker buildx --platform ...).
ARG TARGETOS
ARG TARGETARCH
# Version information for `vocode_exporter --version` and vocode_exporter_build_info.
# Keep VERSION in step with the VERSION file (the release test checks it).
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=docker
ARG BUILD_DATE=unknown

RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -tags netgo,osusergo -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION} -X github.com/prometheus/common/version.Branch=${BRANCH} -X github.com/prometheus/common/version.BuildUser=${BUILD_USER} -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" -o /out/vocode_exporter .

# Final image: no shell, no package manager, CA certificates and tzdata only.
FROM gcr.io/distroless/static-debian12:nonroot

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="vocode_exporter" \
      org.opencontainers.image.description="Prometheus exporter for the account connections of the Vocode Hosted API" \
      org.opencontainers.image.source="https://github.com/vocode-exporter/vocode_exporter" \
      org.opencontainers.image.url="https://github.com/vocode-exporter/vocode_exporter" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${BUILD_DATE}"

COPY --from=builder /out/vocode_exporter /bin/vocode_exporter
# The Apache License asks that whoever receives the binary gets its text too.
COPY LICENSE /LICENSE

# 65532 is the "nonroot" user of the distroless images; numeric so that
# Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 10401
ENTRYPOINT ["/bin/vocode_exporter"]
