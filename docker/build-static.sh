#!/usr/bin/env bash
# Builds the statically linked binaries that go into the function image, and checks that they
# are static. The Dockerfile's build stage runs this script, and so does .ci/run, so that CI
# (which has no Docker engine) builds exactly what the image ships.
#
#   docker/build-static.sh OUTDIR   # writes OUTDIR/llsd-ca-bundle and OUTDIR/install-binary
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
out=${1:?usage: docker/build-static.sh OUTDIR}
mkdir -p "$out"

rustup target add "$target"
cargo build --release --locked --target "$target"
rustc --edition 2021 -C opt-level=s -C strip=symbols --target "$target" \
    -o "$out/install-binary" docker/install-binary.rs
cp "target/$target/release/llsd-ca-bundle" "$out/llsd-ca-bundle"

# Static: no program interpreter (ld.so) and no shared library needed. The image is FROM scratch.
for bin in "$out/llsd-ca-bundle" "$out/install-binary"; do
    if readelf --program-headers --wide "$bin" | grep -q INTERP; then
        echo "$bin asks for a program interpreter: not statically linked" >&2
        exit 1
    fi
    if readelf --dynamic "$bin" | grep -q NEEDED; then
        echo "$bin needs shared libraries: not statically linked" >&2
        readelf --dynamic "$bin" | grep NEEDED >&2
        exit 1
    fi
    echo "static: $bin"
done
