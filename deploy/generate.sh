#!/usr/bin/env bash
# Embeds config/cluster.yaml into the Kubernetes manifests (run by `make generate`),
# so the shipped manifests always carry the config that the tests validate; copies the alert rules
# and the dashboard into the Helm chart (a chart can only read its own files).
set -euo pipefail
cd "$(dirname "$0")"
indent() { sed -e 's/^/    /' -e 's/^ *$//' "$1"; }
{ cat templates/cluster.head.yaml; indent ../config/cluster.yaml; cat templates/cluster.tail.yaml; } > kubernetes/cluster.yaml
cp alerts/otelcol-sealos.rules.yaml helm/otelcol-sealos/files/alerts.yaml
cp dashboards/otelcol-sealos.json helm/otelcol-sealos/files/otelcol-sealos.json
