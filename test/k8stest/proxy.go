package k8stest

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// Proxy is a loopback TCP relay in front of the API server that a test can take down and bring
// back on the same address: what a client sees of an API server outage and restart (connections
// reset, then refused, then accepted again), with the server's data and certificates unchanged.
type Proxy struct {
	// Kubeconfig is the admin kubeconfig pointing at the proxy.
	Kubeconfig string
	addr       string
	target     string

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// StartProxyT starts a proxy in front of c, stopped when the test ends.
func (c *Cluster) StartProxyT(t testing.TB) *Proxy {
	t.Helper()
	p, err := c.StartProxy(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// StartProxy starts a proxy in front of c; dir receives its kubeconfig.
func (c *Cluster) StartProxy(dir string) (*Proxy, error) {
	u, err := url.Parse(c.Config.Host)
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: u.Host, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.serve(ln)

	kc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		p.Close()
		return nil, err
	}
	for _, cluster := range kc.Clusters {
		cluster.Server = "https://" + p.addr
	}
	p.Kubeconfig = filepath.Join(dir, "proxied.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, p.Kubeconfig); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Addr is the proxy's address (host:port), the same across Down and Up.
func (p *Proxy) Addr() string { return p.addr }

// Down closes the listener and every open connection: clients see resets, then refusals.
func (p *Proxy) Down() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	p.wg.Wait()
}

// Up listens again on the same address.
func (p *Proxy) Up() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("proxy cannot listen on %s again: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Close takes the proxy down for good.
func (p *Proxy) Close() { p.Down() }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return // closed by Down
			}
			if !p.track(client) {
				_ = client.Close()
				continue
			}
			p.wg.Go(func() { p.relay(client) })
		}
	})
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		_ = c.Close()
	}
}

func (p *Proxy) relay(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.untrack(client)
		return
	}
	if !p.track(server) {
		_ = server.Close()
		p.untrack(client)
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // a reset mid-copy is what an outage looks like
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	p.untrack(client, server)
	<-done
}
