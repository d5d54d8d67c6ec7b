# The llsd-ca-bundle KRM function image: one static binary on an empty base, run as nobody.
#
#   docker build -t ghcr.io/llamastack/llsd-ca-bundle:v0.1.0 --build-arg VERSION=0.1.0 .
#
# kpt and kustomize start it as `docker run --rm -i --network none --user nobody ... IMAGE`,
# so the entrypoint is the function and /etc/passwd names the user `nobody`.

ARG RUST_VERSION=1.95.0

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The same script .ci/run runs: musl target, `cargo build --release --locked`, static check.
RUN docker/build-static.sh /out \
 && printf 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > /out/passwd \
 && printf 'nobody:x:65534:\n' > /out/group

FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="llsd-ca-bundle" \
      org.opencontainers.image.description="KRM function that injects LlamaStackDistribution CA bundles into their Deployments" \
      org.opencontainers.image.source="https://github.com/llamastack/llsd-ca-bundle" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/llsd-ca-bundle /usr/local/bin/llsd-ca-bundle
# Used by the Argo CD init container to copy the binary out (there is no shell or cp here).
COPY --from=build /out/install-binary /usr/local/bin/install-binary
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/llsd-ca-bundle"]
