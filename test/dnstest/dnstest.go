// Package dnstest is an authoritative DNS server on loopback UDP for made-up names, so tests can
// give a name several addresses, none, or an error, without touching the machine's resolver.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Names with a special answer.
const (
	NXDomain = "nx.test"    // NXDOMAIN
	Empty    = "empty.test" // NOERROR, no answer
)

// Server answers A and AAAA queries from its records; every other name is NXDOMAIN.
type Server struct {
	Addr string // 127.0.0.1:port (UDP)

	mu      sync.Mutex
	records map[string][]string // name (no trailing dot) -> addresses
}

// Start serves records (name → addresses) until the test ends.
func Start(t testing.TB, records map[string][]string) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: pc.LocalAddr().String(), records: records}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.answer), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return s
}

// Set replaces the addresses of name.
func (s *Server) Set(name string, addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[name] = addrs
}

func (s *Server) answer(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	s.mu.Lock()
	addrs, ok := s.records[name]
	s.mu.Unlock()
	switch {
	case name == Empty:
	case !ok:
		m.Rcode = dns.RcodeNameError
	default:
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 1}
		for _, a := range addrs {
			ip := net.ParseIP(a)
			switch {
			case q.Qtype == dns.TypeA && ip.To4() != nil:
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip.To4()})
			case q.Qtype == dns.TypeAAAA && ip.To4() == nil:
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
			}
		}
	}
	_ = w.WriteMsg(m)
}
