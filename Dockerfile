# syntax=docker/dockerfile:1
# Two images from one build of the single executable (npm run build:plugin):
#   docker build --target plugin  -t velero-plugin-drift-detector:0.1.0 .
#   docker build --target service -t drift-detector:0.1.0 .
# Every base is a build argument, and ARTIFACTS=prebuilt takes the executable from a context that
# scripts/image-layout.sh made instead of compiling it: that is how scripts/build-images.sh builds
# the same final stages offline with buildah (docs/plugin.md: "Build the images").
# Nothing here names an architecture: every base is published for linux/amd64 and linux/arm64, and
# with `docker buildx build --platform linux/amd64,linux/arm64` the build stage runs once per target
# (the executable is a copy of that platform's node, and ldd finds that platform's C++ runtime).
ARG NODE_IMAGE=node:20-bullseye-slim
ARG BUSYBOX_IMAGE=busybox:1.36.1-uclibc
ARG SERVICE_BASE=gcr.io/distroless/cc-debian12:nonroot
ARG ARTIFACTS=build

# Debian 11 (glibc 2.31): the executable and the C++ runtime copied beside it then load on every
# glibc image Velero has shipped on (distroless Debian 11, Ubuntu jammy and noble).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY scripts ./scripts
RUN npm run build:plugin
RUN sh scripts/image-layout.sh dist/drift-detector /out

# The same layout made beforehand: the build context is image-layout.sh's OUT directory. It holds
# one architecture's executable: the marker copy fails the build for any other target platform.
FROM scratch AS prebuilt
ARG TARGETARCH
COPY arch/${TARGETARCH} /out/arch/
COPY plugins/ /out/plugins/
COPY bin/ /out/bin/

FROM ${ARTIFACTS} AS artifacts

# busybox's static cp, as in vmware-tanzu/velero-plugin-example.
FROM ${BUSYBOX_IMAGE} AS busybox

# The init container `velero plugin add` adds: copies the plugin into Velero's /plugins (mounted at
# /target), modes kept (executable plugin, non-executable libraries); ownership is the copier's.
FROM scratch AS plugin
ARG VERSION=0.1.0
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="velero-plugin-drift-detector" \
      org.opencontainers.image.description="drift-detector's Velero RestoreItemAction: gates restores of Cluster API Clusters whose vSphere machines drifted since the backup" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=busybox /bin/cp /bin/cp
COPY --from=artifacts /out/plugins/ /plugins/
USER 65532:65532
ENTRYPOINT ["cp", "-r", "/plugins/.", "/target/."]

# drift-detector serve, for remoteEndpoint and for `drift-detector check` in pipelines.
FROM ${SERVICE_BASE} AS service
ARG VERSION=0.1.0
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="drift-detector" \
      org.opencontainers.image.description="drift-detector serve: compares Velero backups of TKG management clusters with vSphere and gates their restores, over gRPC" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=artifacts /out/bin/drift-detector /usr/local/bin/drift-detector
USER 65532:65532
EXPOSE 50051 9464
ENTRYPOINT ["/usr/local/bin/drift-detector"]
CMD ["serve", "--config", "/etc/drift-detector/config.yaml"]
