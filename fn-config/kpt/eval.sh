#!/bin/sh
# Runs the function once on a package with `kpt fn eval`, outside its Kptfile pipeline.
#
#   fn-config/kpt/eval.sh PKG [key=value ...]     # the binary `llsd-ca-bundle` on PATH
#   FN_IMAGE=ghcr.io/llamastack/llsd-ca-bundle:v0.1.0 fn-config/kpt/eval.sh PKG [key=value ...]
#
# key=value pairs become the function config (a ConfigMap), for example
#   fn-config/kpt/eval.sh my-pkg mountPath=/etc/ssl/certs/corp useDefaultCAs=true
# FN_EXEC names another binary; FN_RESULTS_DIR keeps kpt's results there.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 PKG [key=value ...]" >&2
    exit 2
fi
pkg=$1
shift
if [ -n "${FN_IMAGE:-}" ]; then
    set -- "$pkg" --image "$FN_IMAGE" ${FN_RESULTS_DIR:+--results-dir "$FN_RESULTS_DIR"} -- "$@"
else
    set -- "$pkg" --exec "${FN_EXEC:-llsd-ca-bundle}" ${FN_RESULTS_DIR:+--results-dir "$FN_RESULTS_DIR"} -- "$@"
fi
exec kpt fn eval "$@"
