# syntax=docker/dockerfile:1
# Two images from one build of the single executable (npm run build:plugin):
#   docker build --target plugin  -t velero-plugin-drift-detector:0.1.0 .
#   docker build --target service -t drift-detector:0.1.0 .

# Debian 11 (glibc 2.31): the executable and the C++ runtime copied beside it then run on every
# glibc image Velero has shipped on (distroless Debian 11, Ubuntu noble).
FROM node:20-bullseye-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY scripts ./scripts
RUN npm run build:plugin
# Velero's image has no C++ runtime; its container sets LD_LIBRARY_PATH=/plugins, so the two
# libraries node links go beside the plugin. Mode 0644: Velero runs every executable in /plugins.
RUN mkdir -p /out/plugins /out/bin \
 && cp dist/drift-detector /out/plugins/velero-plugin-drift-detector \
 && for lib in libstdc++.so.6 libgcc_s.so.1; do \
      cp -L "$(ldd dist/drift-detector | awk -v l="$lib" '$1 == l { print $3 }')" /out/plugins/ ; \
    done \
 && chmod 0755 /out/plugins/velero-plugin-drift-detector \
 && chmod 0644 /out/plugins/libstdc++.so.6 /out/plugins/libgcc_s.so.1 \
 && cp dist/drift-detector /out/bin/drift-detector

# busybox's static cp, as in vmware-tanzu/velero-plugin-example.
FROM busybox:1.36.1-uclibc AS busybox

# The init container `velero plugin add` adds: copies the plugin into Velero's /plugins (mounted at
# /target), modes kept (executable plugin, non-executable libraries); ownership is the copier's.
FROM scratch AS plugin
COPY --from=busybox /bin/cp /bin/cp
COPY --from=build /out/plugins/ /plugins/
USER 65532:65532
ENTRYPOINT ["cp", "-r", "/plugins/.", "/target/."]

# drift-detector serve, for remoteEndpoint and for `drift-detector check` in pipelines.
FROM gcr.io/distroless/cc-debian12:nonroot AS service
COPY --from=build /out/bin/drift-detector /usr/local/bin/drift-detector
USER 65532:65532
EXPOSE 50051 9464
ENTRYPOINT ["/usr/local/bin/drift-detector"]
CMD ["serve", "--config", "/etc/drift-detector/config.yaml"]
