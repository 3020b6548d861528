#!/usr/bin/env bash
# Embeds config/cluster.yaml into the Kubernetes and Operator manifests (run by `make generate`),
# so the shipped manifests always carry the config that the tests validate.
set -euo pipefail
cd "$(dirname "$0")"
indent() { sed -e 's/^/    /' -e 's/^ *$//' "$1"; }
{ cat templates/cluster.head.yaml; indent ../config/cluster.yaml; cat templates/cluster.tail.yaml; } > kubernetes/cluster.yaml
{ cat templates/opentelemetrycollector.head.yaml; grep -v '^ *#' ../config/cluster.yaml | indent /dev/stdin; } > operator/opentelemetrycollector.yaml
