package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/labring/otelcol-sealos/test/lvmtest"
	"github.com/labring/otelcol-sealos/test/otelcoltest"
	ubt "github.com/labring/otelcol-sealos/test/userbalancetest"
)

// panelQuery is one PromQL expression of the dashboard, with its panel's title.
type panelQuery struct{ panel, expr string }

// dashboardQueries returns every panel target and every variable's series selector, with Grafana's
// variables replaced the way "All" and a 30 s rate interval expand them.
func dashboardQueries(t *testing.T) []panelQuery {
	t.Helper()
	raw, err := os.ReadFile(repoPath("deploy", "dashboards", "otelcol-sealos.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	expand := strings.NewReplacer("$cluster", ".*", "$namespace", ".*", "$node", ".*", "$database", ".*", "$__rate_interval", "30s")
	var out []panelQuery
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, target := range p.Targets {
			out = append(out, panelQuery{p.Title, expand.Replace(target.Expr)})
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.*), *[a-z_]+\)$`)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)["query"].(string)
		m := labelValues.FindStringSubmatch(q)
		require.NotNil(t, m, "variable %s: %q is not label_values(selector, label)", v.Name, q)
		out = append(out, panelQuery{"variable " + v.Name, expand.Replace(m[1])})
	}
	return out
}

// seriesReceivers maps a series name prefix to the receiver that emits it ("" = every receiver).
var seriesReceivers = []struct{ prefix, receiver string }{
	{"sealos_state_metric_collector_", ""},
	{"sealos_config_", "config_reload"},
	{"sealos_node_", "node"},
	{"sealos_domain_", "domain"},
	{"sealos_database_", "database"},
	{"sealos_userbalance_", "userbalance"},
	{"sealos_crds_", "crds"},
	{"sealos_image_pull", "imagepull"},
	{"sealos_lvm_", "lvm"},
	{"sealos_zombie_", "zombie"},
	{"sealos_cloudbalance_", "cloudbalance"},
	{"sealos_registry_proxy_", "registryproxy"},
	{"sealos_cockroach_license_", "cockroachlicense"},
}

// notInDemo: series the demo scenario does not produce, and why.
var notInDemo = map[string]string{
	"sealos_node_kubelet_metrics_available": "off in config/demo.yaml (needs metrics-server)",
}

// receiversOfQuery returns the receivers whose series the expression reads.
func receiversOfQuery(t *testing.T, expr string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, name := range regexp.MustCompile(`sealos_[a-z_]+`).FindAllString(expr, -1) {
		found := false
		for _, s := range seriesReceivers {
			if strings.HasPrefix(name, s.prefix) {
				found = true
				if s.receiver != "" {
					seen[s.receiver] = true
				}
				break
			}
		}
		require.True(t, found, "%s: no receiver emits %s", expr, name)
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// startPrometheus runs Debian's prometheus on a free loopback port scraping targets every second.
func startPrometheus(t *testing.T, targets ...string) string {
	t.Helper()
	bin := filepath.Join(filepath.Dir(promtool(t)), "prometheus")
	if p := os.Getenv("PROMETHEUS"); p != "" {
		bin = p
	}
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, target := range targets {
		quoted[i] = fmt.Sprintf("%q", target)
	}
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: otelcol-sealos
    static_configs: [{targets: [%s]}]
`, strings.Join(quoted, ", "))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600))
	addr := fmt.Sprintf("127.0.0.1:%d", otelcoltest.FreePort(t))
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	otelcoltest.Command(t, cmd) // its output is logged if the test fails
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, waitFor, 200*time.Millisecond, "prometheus not ready")
	return base
}

// query runs an instant query; it returns the number of result series, or the parse/eval error.
func query(t *testing.T, base, expr string) (int, error) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("%s", body.Error)
	}
	return len(body.Data.Result), nil
}

// TestDashboardQueriesParse: a real Prometheus accepts every panel's and variable's query.
func TestDashboardQueriesParse(t *testing.T) {
	base := startPrometheus(t, "127.0.0.1:1")
	queries := dashboardQueries(t)
	require.GreaterOrEqual(t, len(queries), 40)
	for _, q := range queries {
		_, err := query(t, base, q.expr)
		assert.NoError(t, err, "panel %q: %s", q.panel, q.expr)
		receiversOfQuery(t, q.expr)
	}
}

// demoRun is what the demo runs on this machine: the receivers of config/demo.yaml's pipelines
// (component ids), minus those the demo leaves out here, with the reason.
type demoRun struct {
	receivers []string
	leftOut   map[string]string
}

// runs says whether a receiver of type typ runs in the demo (any id typ or typ/name).
func (d demoRun) runs(typ string) bool {
	for _, id := range d.receivers {
		if componentType(id) == typ {
			return true
		}
	}
	return false
}

// leftOutBecause says why the demo leaves receivers of type typ out here ("" and false: it does not).
func (d demoRun) leftOutBecause(typ string) (string, bool) {
	for id, why := range d.leftOut {
		if componentType(id) == typ {
			return why, true
		}
	}
	return "", false
}

func componentType(id string) string {
	typ, _, _ := strings.Cut(id, "/")
	return typ
}

// demoReceivers reads the receivers config/demo.yaml's pipelines run and leaves out those the demo
// drops on this machine, by the demo's own rules (test/cmd/demo): lvm without a loop-device volume
// group (lvmtest.Available: root, losetup, lvm2), userbalance without a reachable PostgreSQL at the
// admin DSN (userbalancetest.AdminDSN).
func demoReceivers(t *testing.T) demoRun {
	t.Helper()
	raw, err := os.ReadFile(repoPath("config", "demo.yaml"))
	require.NoError(t, err)
	var cfg struct {
		Service struct {
			Pipelines map[string]struct {
				Receivers []string `json:"receivers"`
			} `json:"pipelines"`
		} `json:"service"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	ids := map[string]bool{}
	for _, p := range cfg.Service.Pipelines {
		for _, id := range p.Receivers {
			ids[id] = true
		}
	}
	require.NotEmpty(t, ids, "config/demo.yaml has no pipeline receivers")
	leftOut := map[string]string{}
	if err := lvmtest.Available(); err != nil {
		leftOut["lvm"] = fmt.Sprintf("the demo makes no volume group here: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ubt.Exec(ctx, ubt.AdminDSN(), "SELECT 1"); err != nil {
		leftOut["userbalance"] = fmt.Sprintf("PostgreSQL not reachable: %v", err)
	}
	run := demoRun{leftOut: map[string]string{}}
	for id := range ids {
		if why, ok := leftOut[componentType(id)]; ok {
			run.leftOut[id] = why
			continue
		}
		run.receivers = append(run.receivers, id)
	}
	sort.Strings(run.receivers)
	return run
}

// TestDashboardQueriesReturnDataInDemo runs the `make demo` scenario (test/cmd/demo with
// config/demo.yaml), has a real Prometheus scrape it, and checks that every panel returns data.
// Only panels of receivers the demo leaves out on this machine (lvm without root or lvm2,
// userbalance without PostgreSQL) and of series the demo does not produce (notInDemo) are listed,
// not checked; every other receiver of config/demo.yaml must report first.
func TestDashboardQueriesReturnDataInDemo(t *testing.T) {
	bin := otelcoltest.Binary(t)
	promtool(t)
	demo := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", demo, "./cmd/demo")
	build.Dir = repoPath("test")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the demo:\n%s", out)

	// The demo's ports are fixed (config/demo.yaml, test/cmd/demo): say so if something else holds them.
	for _, port := range []string{"9090", "9443", "9444", "9446", "9447", "9448", "13133"} {
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		require.NoError(t, err, "the demo needs 127.0.0.1:%s (a Prometheus service on 9090?)", port)
		l.Close()
	}
	expected := demoReceivers(t)
	for id, why := range expected.leftOut {
		t.Logf("%s is not in this demo run (%s); its panels are not checked", id, why)
	}
	otelcoltest.Command(t, exec.Command(demo, "-binary", bin, "-config", repoPath("config", "demo.yaml")))

	// The demo's collector serves 127.0.0.1:9090; wait for the first cycle of every receiver it runs.
	collector := regexp.MustCompile(`^sealos_state_metric_collector_success\{collector="([^"]+)"`)
	var mu sync.Mutex // the condition below runs in its own goroutine
	reported := map[string]bool{}
	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, id := range expected.receivers {
			if !reported[id] {
				out = append(out, id)
			}
		}
		return out
	}
	ok := assert.Eventually(t, func() bool {
		s, err := otelcoltest.Scrape("http://127.0.0.1:9090/metrics")
		if err != nil {
			return false
		}
		mu.Lock()
		for key := range s {
			if m := collector.FindStringSubmatch(key); m != nil {
				reported[m[1]] = true
			}
		}
		// config_reload has no cycle self-metrics: its own series say it runs.
		if _, ok := s["sealos_config_reload_failures_total"]; ok {
			reported["config_reload"] = true
		}
		mu.Unlock()
		return len(missing()) == 0
	}, 3*time.Minute, time.Second)
	require.True(t, ok, "receivers of config/demo.yaml that should run here did not report: %v", missing())

	base := startPrometheus(t, "127.0.0.1:9090")
	// rate() needs two samples in its 30 s window; scrapes are every second.
	time.Sleep(5 * time.Second)
	var checked, notChecked []string
	for _, q := range dashboardQueries(t) {
		skip := ""
		for _, r := range receiversOfQuery(t, q.expr) {
			if expected.runs(r) {
				continue
			}
			why, leftOut := expected.leftOutBecause(r)
			if !leftOut {
				assert.Fail(t, "panel of a receiver the demo does not run", "panel %q reads receiver %s, which config/demo.yaml does not run: add it to the demo", q.panel, r)
				why = "not in config/demo.yaml"
			}
			skip = "receiver " + r + " is not in this demo run: " + why
		}
		for name, why := range notInDemo {
			if strings.Contains(q.expr, name) {
				skip = why
			}
		}
		if skip != "" {
			notChecked = append(notChecked, fmt.Sprintf("%q (%s)", q.panel, skip))
			continue
		}
		assert.Eventually(t, func() bool {
			n, err := query(t, base, q.expr)
			return err == nil && n > 0
		}, 30*time.Second, time.Second, "panel %q returns no data in the demo: %s", q.panel, q.expr)
		checked = append(checked, fmt.Sprintf("%q", q.panel))
	}
	t.Logf("receivers that reported: %s", strings.Join(expected.receivers, ", "))
	t.Logf("checked %d panel queries: %s", len(checked), strings.Join(checked, ", "))
	for _, n := range notChecked {
		t.Logf("not checked: %s", n)
	}
	assert.GreaterOrEqual(t, len(checked), 20)
}
