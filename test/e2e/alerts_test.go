package e2e

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// promtool is $PROMTOOL, else promtool on PATH (Debian's `prometheus` package; .ci/run installs it).
func promtool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs promtool; skipped with -short")
	}
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	p, err := exec.LookPath("promtool")
	require.NoError(t, err, "promtool not found: apt-get install prometheus (or set PROMTOOL)")
	return p
}

type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `json:"alert"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

type ruleTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// TestAlertRules: promtool accepts the rules and their unit tests pass; every alert has a runbook
// section and is tested both firing and not firing.
func TestAlertRules(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", repoPath("deploy", "alerts", "otelcol-sealos.rules.yaml")},
		{"test", "rules", repoPath("deploy", "alerts", "otelcol-sealos.rules.test.yaml")},
	} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	}

	raw, err := os.ReadFile(repoPath("deploy", "alerts", "otelcol-sealos.rules.yaml"))
	require.NoError(t, err)
	var rules ruleFile
	require.NoError(t, yaml.Unmarshal(raw, &rules))
	raw, err = os.ReadFile(repoPath("deploy", "alerts", "otelcol-sealos.rules.test.yaml"))
	require.NoError(t, err)
	var tests ruleTests
	require.NoError(t, yaml.Unmarshal(raw, &tests))
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, at := range tc.AlertRuleTest {
			if len(at.ExpAlerts) > 0 {
				fires[at.Alertname] = true
			} else {
				quiet[at.Alertname] = true
			}
		}
	}
	runbooks, err := os.ReadFile(repoPath("docs", "runbooks.md"))
	require.NoError(t, err)
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts++
			assert.True(t, fires[r.Alert], "%s: no test where it fires", r.Alert)
			assert.True(t, quiet[r.Alert], "%s: no test where it does not fire", r.Alert)
			url := r.Annotations["runbook_url"]
			anchor := strings.ToLower(r.Alert)
			assert.True(t, strings.HasSuffix(url, "docs/runbooks.md#"+anchor), "%s: runbook_url %q", r.Alert, url)
			assert.Regexp(t, regexp.MustCompile(`(?m)^## `+r.Alert+`$`), string(runbooks), "docs/runbooks.md lacks a section for %s", r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
		}
	}
	assert.GreaterOrEqual(t, alerts, 16)
}

// TestChartCarriesAlertsAndDashboard: the chart's copies (deploy/generate.sh) are the sources.
func TestChartCarriesAlertsAndDashboard(t *testing.T) {
	for src, copied := range map[string]string{
		repoPath("deploy", "alerts", "otelcol-sealos.rules.yaml"): repoPath("deploy", "helm", "otelcol-sealos", "files", "alerts.yaml"),
		repoPath("deploy", "dashboards", "otelcol-sealos.json"):   repoPath("deploy", "helm", "otelcol-sealos", "files", "otelcol-sealos.json"),
	} {
		a, err := os.ReadFile(src)
		require.NoError(t, err)
		b, err := os.ReadFile(copied)
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), "%s is stale: run make generate", copied)
	}
}
