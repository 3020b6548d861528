// Command exporterbench measures a Prometheus exporter of the real otelcol-sealos binary: it
// starts the binary with an OTLP receiver and one exporter, pushes N gauge series over OTLP
// (objects × 5 series, the crds receiver's shape), then scrapes /metrics and reads the process'
// CPU time and RSS from /proc. One process per exporter and size, so RSS is per exporter.
//
//	go run ./cmd/exporterbench -binary ../bin/otelcol-sealos -series 10000,50000,250000
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labring/otelcol-sealos/test/loadtest"
)

func main() {
	binary := flag.String("binary", "bin/otelcol-sealos", "collector binary")
	sizes := flag.String("series", "10000,50000,250000", "series counts (multiples of 5)")
	exporters := flag.String("exporters", "prometheus_state,prometheus", "exporter types to compare")
	scrapes := flag.Int("scrapes", 10, "scrapes per encoding")
	flag.Parse()
	fmt.Println("| exporter | series | ingest CPU (first / update) | /metrics p50 / p99 plain | p50 / p99 gzip | body plain / gzip | RSS idle → after scrapes (growth) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(s)
		must(err)
		for _, exp := range strings.Split(*exporters, ",") {
			r, err := run(*binary, exp, n, *scrapes)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s %d: %v\n", exp, n, err)
				os.Exit(1)
			}
			fmt.Println(r)
		}
	}
}

type result struct {
	exporter                   string
	series                     int
	cpuFirst, cpuUpdate        time.Duration
	plain, gz                  []time.Duration
	plainBytes, gzBytes        int
	rssIdle, rssAfter, rssPeak int64
}

func (r result) String() string {
	p := func(d []time.Duration, q float64) string {
		return fmt.Sprintf("%.3f s", loadtest.Percentile(d, q).Seconds())
	}
	return fmt.Sprintf("| %s | %d | %.2f s / %.2f s | %s / %s | %s / %s | %.1f MB / %.1f MB | %d → %d MiB (+%d, peak %d) |",
		r.exporter, r.series, r.cpuFirst.Seconds(), r.cpuUpdate.Seconds(),
		p(r.plain, 0.5), p(r.plain, 0.99), p(r.gz, 0.5), p(r.gz, 0.99),
		float64(r.plainBytes)/1e6, float64(r.gzBytes)/1e6,
		r.rssIdle>>20, r.rssAfter>>20, (r.rssAfter-r.rssIdle)>>20, r.rssPeak>>20)
}

func run(binary, exporter string, series, scrapes int) (result, error) {
	res := result{exporter: exporter, series: series}
	otlpAddr, promAddr := freeAddr(), freeAddr()
	dir, err := os.MkdirTemp("", "exporterbench")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
        max_recv_msg_size_mib: 1024
exporters:
  %s:
    endpoint: %s
    namespace: sealos
    without_scope_info: true
    write_timeout: 10m # confighttp's 30s default cuts off slow scrapes
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [%s]
`, otlpAddr, exporter, promAddr, exporter)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return res, err
	}
	cmd := exec.Command(binary, "--config="+cfgPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	pid := cmd.Process.Pid
	url := "http://" + promAddr + "/metrics"
	if err := waitFor(url, 30*time.Second); err != nil {
		return res, err
	}
	time.Sleep(2 * time.Second) // let start-up settle before the idle RSS
	res.rssIdle = procStatus(pid, "VmRSS")

	conn, err := loadtest.Dial(otlpAddr)
	if err != nil {
		return res, err
	}
	defer func() { _ = conn.Close() }()
	pusher := loadtest.NewPusher(conn) // 5 minutes per request
	push := func(round int) (time.Duration, error) {
		before := cpuTime(pid)
		if err := pusher.Push(context.Background(), loadtest.Gauges{Objects: series / loadtest.SeriesPerObject, Round: round}); err != nil {
			return 0, err
		}
		return cpuTime(pid) - before, nil
	}
	if res.cpuFirst, err = push(0); err != nil {
		return res, err
	}
	if res.cpuUpdate, err = push(1); err != nil {
		return res, err
	}
	for _, gz := range []bool{false, true} {
		for range scrapes {
			start := time.Now()
			n, lines, err := scrape(url, gz)
			if err != nil {
				return res, err
			}
			took := time.Since(start)
			if lines < series {
				return res, fmt.Errorf("scrape has %d sample lines, want >= %d", lines, series)
			}
			if gz {
				res.gz, res.gzBytes = append(res.gz, took), n
			} else {
				res.plain, res.plainBytes = append(res.plain, took), n
			}
		}
	}
	res.rssAfter = procStatus(pid, "VmRSS")
	res.rssPeak = procStatus(pid, "VmHWM")
	return res, nil
}

// scrape returns the body size as transferred and the number of sample lines.
func scrape(url string, gz bool) (int, int, error) {
	req, _ := http.NewRequest(http.MethodGet, url, http.NoBody)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	client := http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	counter := &countingReader{r: resp.Body}
	var body io.Reader = counter
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(counter)
		if err != nil {
			return 0, 0, err
		}
		body = zr
	} else if gz {
		return 0, 0, fmt.Errorf("asked for gzip, got %q", resp.Header.Get("Content-Encoding"))
	}
	lines := 0
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if b := sc.Bytes(); len(b) > 0 && b[0] != '#' {
			lines++
		}
	}
	return counter.n, lines, sc.Err()
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func waitFor(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", url, timeout)
}

// cpuTime is the process' user+system CPU time.
func cpuTime(pid int) time.Duration {
	d, err := loadtest.CPUTime(pid)
	must(err)
	return d
}

// procStatus reads a kB field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	v, err := loadtest.StatusBytes(pid, field)
	must(err)
	return v
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
