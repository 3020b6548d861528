// Command demo starts a local Kubernetes API server with sample nodes, pods, events, database
// Secrets and KubeBlocks clusters, local stand-ins of what the other receivers check (HTTPS
// servers, databases, registries, CockroachDB license answers, cloud billing APIs), runs
// otelcol-sealos against them and shows what it exports. `make demo` runs it; Ctrl-C stops everything.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

const (
	metricsURL = "http://127.0.0.1:9090/metrics"
	healthURL  = "http://127.0.0.1:13133/"
	// ignoreNew matches ignore_new_node_duration in config/demo.yaml.
	ignoreNew = 15 * time.Second
)

func main() {
	binary := flag.String("binary", "bin/otelcol-sealos", "collector binary")
	config := flag.String("config", "config/demo.yaml", "collector config")
	flag.Parse()
	if err := run(*binary, *config); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// atExit holds what the sample functions started and the demo stops when it ends.
var atExit []func()

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

func run(binary, config string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "otelcol-sealos-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	step("starting a local Kubernetes API server (kube-apiserver v%s, etcd v%s)", k8stest.KubernetesVersion, k8stest.EtcdVersion)
	cluster, err := k8stest.Start(dir)
	if err != nil {
		return err
	}
	defer func() {
		step("stopping the API server")
		_ = cluster.Stop()
	}()

	// Each receiver's sample data; a new receiver adds its own function here (and what it starts
	// to atExit).
	defer func() {
		for i := len(atExit) - 1; i >= 0; i-- {
			atExit[i]()
		}
	}()
	for _, create := range []func(context.Context, *k8stest.Cluster) error{createSampleNodes, startDomainTargets, createSampleDatabases, createSampleClusters, createSamplePulls, startRegistries, startCockroachClusters, startCloudAPIs} {
		if err := create(ctx, cluster); err != nil {
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return err
		}
	}

	// Receivers reading local database servers; each may drop itself from the config.
	config, userBalanceEnv, dropUserBalance := prepareUserBalance(ctx, config, dir)
	defer dropUserBalance()
	// Node-local receivers: this machine's volume groups and processes.
	config, dropLVM := prepareLVM(ctx, config, dir)
	defer dropLVM()
	reapZombie := startDemoZombie(ctx, cluster)
	defer reapZombie()

	logPath := filepath.Join(os.TempDir(), "otelcol-sealos-demo.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	step("starting %s --config=%s (log: %s)", binary, config, logPath)
	cmd := exec.Command(binary, "--config="+config)
	cmd.Env = append(os.Environ(), "DEMO_KUBECONFIG="+cluster.Kubeconfig)
	cmd.Env = append(cmd.Env, userBalanceEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		step("stopping the collector")
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				step("collector exited: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()

	// The imagepull receiver's first series: it has listed pods and events, so a new event counts.
	for _, name := range []string{"sealos_node_healthy", "sealos_image_pull_failures"} {
		if lines, err := waitForSeries(ctx, exited, logPath, name); err != nil || lines == nil {
			return err
		}
	}
	if err := reportSamplePull(ctx, cluster); err != nil {
		return err
	}
	lines, err := waitForSeries(ctx, exited, logPath, "sealos_image_pulls_total")
	if err != nil || lines == nil {
		return err
	}
	fmt.Println()
	fmt.Println(strings.Join(lines, "\n"))
	fmt.Printf(`
The collector is running. Look further:
  curl -s %s | grep '^sealos_'   # every series (Prometheus exporter, namespace sealos)
  curl -s %s                      # health_check extension
  tail -f %s                  # collector log, with the debug exporter's output
  kubectl --kubeconfig %s get nodes   # if kubectl is installed
Edit a node's conditions with kubectl and watch the series change within 5s. Ctrl-C stops everything.
`, metricsURL, healthURL, logPath, cluster.Kubeconfig)

	select {
	case <-ctx.Done():
		fmt.Println()
		return nil
	case err := <-exited:
		return fmt.Errorf("collector exited: %v; see %s", err, logPath)
	}
}

// createSampleNodes creates one node of each kind the node receiver tells apart.
func createSampleNodes(ctx context.Context, cluster *k8stest.Cluster) error {
	step("creating sample nodes: demo-healthy, demo-notready, demo-pressured, demo-npd-kerneldeadlock")
	samples := map[string][]k8stest.Condition{
		"demo-healthy":            k8stest.Healthy,
		"demo-notready":           {{Type: corev1.NodeReady, Status: corev1.ConditionFalse}, {Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse}},
		"demo-pressured":          {{Type: corev1.NodeReady, Status: corev1.ConditionTrue}, {Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue}},
		"demo-npd-kerneldeadlock": {{Type: corev1.NodeReady, Status: corev1.ConditionTrue}, {Type: "KernelDeadlock", Status: corev1.ConditionTrue}},
	}
	for name, conds := range samples {
		if _, err := k8stest.CreateNode(ctx, cluster.Client, name, conds); err != nil {
			return fmt.Errorf("creating node %s: %w", name, err)
		}
	}
	step("waiting %s so they are older than ignore_new_node_duration, then adding demo-brand-new (it will be skipped)", ignoreNew)
	select {
	case <-time.After(ignoreNew):
	case <-ctx.Done():
		return ctx.Err()
	}
	_, err := k8stest.CreateNode(ctx, cluster.Client, "demo-brand-new", k8stest.Healthy)
	return err
}

// waitForSeries polls /metrics until a series named name is there and returns the sealos_ lines.
// nil lines and nil error mean Ctrl-C.
func waitForSeries(ctx context.Context, exited <-chan error, logPath, name string) ([]string, error) {
	step("waiting for %s on %s", name, metricsURL)
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case err := <-exited:
			return nil, fmt.Errorf("collector exited early (%v):\n%s", err, tail(logPath, 20))
		case <-deadline:
			return nil, fmt.Errorf("no %s after 2 minutes; collector log:\n%s", name, tail(logPath, 20))
		case <-time.After(time.Second):
		}
		lines, err := sealosLines()
		if err == nil && len(lines) > 0 && strings.Contains(strings.Join(lines, "\n"), name) {
			return lines, nil
		}
	}
}

func sealosLines() ([]string, error) {
	resp, err := http.Get(metricsURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "sealos_") {
			lines = append(lines, "  "+sc.Text())
		}
	}
	return lines, sc.Err()
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
