package k8stest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
)

// CountingProxy sits between a component under test and the API server and counts the requests the
// server sees, by "VERB resource[/name]" ("POST tokenreviews", "WATCH leases", "GET leases/x"):
// the number of TokenReviews, or of watch restarts, is then measured where it costs, not inside
// the component. It forwards with the cluster's admin identity; the component talks plain HTTP
// to it.
type CountingProxy struct {
	// Kubeconfig points at the proxy, without credentials.
	Kubeconfig string

	mu       sync.Mutex
	total    map[string]int
	inFlight map[string]int
	peak     map[string]int
	times    map[string][]time.Time
}

// StartCountingProxy starts a CountingProxy on loopback, stopped when the test ends.
func (c *Cluster) StartCountingProxy(t testing.TB) *CountingProxy {
	t.Helper()
	upstream, err := url.Parse(c.Config.Host)
	require.NoError(t, err)
	transport, err := rest.TransportFor(c.Config)
	require.NoError(t, err)
	p := &CountingProxy{total: map[string]int{}, inFlight: map[string]int{}, peak: map[string]int{}, times: map[string][]time.Time{}}
	forward := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		Transport:     transport,
		FlushInterval: -1, // watches stream
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := requestKey(r)
		p.enter(key)
		defer p.leave(key)
		forward.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })

	p.Kubeconfig = filepath.Join(t.TempDir(), "proxy.kubeconfig")
	require.NoError(t, os.WriteFile(p.Kubeconfig, fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: "http://%s"}}]
users: [{name: proxy, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]
current-context: proxy
`, ln.Addr()), 0o600))
	return p
}

// Total is how many requests of key ("POST tokenreviews") reached the server.
func (p *CountingProxy) Total(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total[key]
}

// Times are when each request of key arrived, in order.
func (p *CountingProxy) Times(key string) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.times[key])
}

// InFlight is how many requests of key are open now (a watch stays open while it lasts).
func (p *CountingProxy) InFlight(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight[key]
}

// Peak is the most requests of key that were open at once.
func (p *CountingProxy) Peak(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak[key]
}

func (p *CountingProxy) enter(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total[key]++
	p.times[key] = append(p.times[key], time.Now())
	p.inFlight[key]++
	p.peak[key] = max(p.peak[key], p.inFlight[key])
}

func (p *CountingProxy) leave(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight[key]--
}

// requestKey is "VERB resource[/name]": /api/v1/namespaces/ns/pods?watch=true → "WATCH pods",
// /apis/authentication.k8s.io/v1/tokenreviews → "POST tokenreviews",
// /apis/coordination.k8s.io/v1/namespaces/ns/leases/x → "GET leases/x".
func requestKey(r *http.Request) string {
	verb := r.Method
	if w := r.URL.Query().Get("watch"); w == "true" || w == "1" {
		verb = "WATCH"
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var rest []string
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		rest = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		rest = segs[3:]
	default:
		return verb + " " + r.URL.Path
	}
	if len(rest) >= 3 && rest[0] == "namespaces" {
		rest = rest[2:]
	}
	if len(rest) == 0 {
		return verb + " " + r.URL.Path
	}
	if len(rest) >= 2 {
		return verb + " " + rest[0] + "/" + rest[1]
	}
	return verb + " " + rest[0]
}
