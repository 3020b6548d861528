// Package cloudtest serves the three billing APIs the cloudbalance receiver reads (Alibaba Cloud
// BSS OpenAPI QueryAccountBalance, Tencent Cloud Billing DescribeAccountBalance, VolcEngine Billing
// QueryBalanceAcct) on loopback HTTPS, in their wire formats. Each server checks every request the
// way the provider documents it — action, version, timestamp and the signature computed from the
// secret it holds for the key id — and answers with the provider's documented response and error
// shapes: a wrong secret fails the signature check. The signature checks are written from the
// providers' documentation, independently of the SDKs under test.
package cloudtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Throttle as a Reply's Error answers with the provider's throttling code.
const Throttle = "<throttle>"

// Reply is the answer to one request that passed the signature check.
type Reply struct {
	// Delay holds the answer back (a slow API); the handler gives up when the client does.
	Delay time.Duration
	// Balance is the available balance as the provider writes it: a decimal string such as
	// "10,000.00" (Alibaba Cloud, VolcEngine), or fen such as "1234567" (Tencent Cloud).
	Balance string
	// Currency is Alibaba Cloud's Data.Currency.
	Currency string
	// Error answers with the provider's error body for this code (or Throttle) instead.
	Error string
	// Status overrides the HTTP status (default: the provider's usual one for the answer).
	Status int
	// Body is sent verbatim instead of a documented body (a malformed answer).
	Body string
}

// Account is a key pair the server accepts and what it answers for it.
type Account struct {
	ID, Secret string
	// Replies answers the n-th accepted request with Replies[n]; the last one repeats.
	Replies []Reply
}

// Server is one provider's fake API on loopback HTTPS.
type Server struct {
	// Endpoint is host:port, what the receiver's endpoint setting takes.
	Endpoint string
	// CAFile is a PEM file with the server's (self-signed) certificate, for tls.ca_file.
	CAFile string

	srv     *httptest.Server
	dialect dialect

	mu       sync.Mutex
	accounts map[string]*Account
	accepted map[string]int // requests that passed the signature check, per key id
	rejected map[string]int // requests that failed authentication, per key id ("" when none was sent)
	nonces   map[string]bool
	seq      int
	inFlight int
	maxIn    int
}

// failure is an error answer: the provider's code, message and HTTP status.
type failure struct {
	status        int
	code, message string
}

// dialect is what differs between the providers.
type dialect interface {
	// authenticate checks r (its body read into body) and returns the key id it was signed with.
	authenticate(s *Server, r *http.Request, body []byte) (string, *failure)
	// answer writes reply (Body and Delay already handled).
	answer(w http.ResponseWriter, reply Reply, requestID string)
	// fail writes an error body.
	fail(w http.ResponseWriter, f failure, requestID string)
	throttleCode() string
}

// Start serves provider's API ("alicloud", "tencentcloud" or "volcengine", the receiver's names)
// on addr ("127.0.0.1:0" picks a free port) and writes its certificate in dir as CAFile. Close
// stops it. NewAlicloud, NewTencentcloud and NewVolcengine do the same for one test.
func Start(provider, addr, dir string) (*Server, error) {
	d, ok := dialects[provider]
	if !ok {
		return nil, fmt.Errorf("cloudtest: unknown provider %q", provider)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cloudtest: %s API on %s: %w", provider, addr, err)
	}
	s := &Server{dialect: d, accounts: map[string]*Account{}, accepted: map[string]int{}, rejected: map[string]int{}, nonces: map[string]bool{}}
	s.srv = httptest.NewUnstartedServer(s)
	_ = s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.StartTLS()
	s.Endpoint = strings.TrimPrefix(s.srv.URL, "https://")
	s.CAFile = filepath.Join(dir, provider+"-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(s.CAFile, pemBytes, 0o600); err != nil {
		s.srv.Close()
		return nil, err
	}
	return s, nil
}

var dialects = map[string]dialect{"alicloud": alicloud{}, "tencentcloud": tencentcloud{}, "volcengine": volcengine{}}

// newServer starts provider's API on a free loopback port for the duration of t.
func newServer(t testing.TB, provider string) *Server {
	t.Helper()
	s, err := Start(provider, "127.0.0.1:0", t.TempDir())
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for the requests it is handling.
func (s *Server) Close() { s.srv.Close() }

// Set adds the account, or replaces the one with its key id (and resets its reply sequence).
func (s *Server) Set(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[a.ID] = &a
	s.accepted[a.ID] = 0
}

// Accepted is how many requests signed with id passed the check.
func (s *Server) Accepted(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted[id]
}

// Rejected is how many requests naming id failed authentication.
func (s *Server) Rejected(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[id]
}

// MaxInFlight is the most requests the server was handling at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

// secret returns the secret held for id.
func (s *Server) secret(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return "", false
	}
	return a.Secret, true
}

// useNonce reports whether nonce is new, and remembers it.
func (s *Server) useNonce(nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces[nonce] {
		return false
	}
	s.nonces[nonce] = true
	return true
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	s.mu.Lock()
	s.seq++
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	requestID := fmt.Sprintf("%08X-7E57-4C1D-8000-%012X", s.seq, time.Now().UnixNano()&0xFFFFFFFFFFFF)
	s.mu.Unlock()

	id, f := s.dialect.authenticate(s, r, body)
	if f != nil {
		s.mu.Lock()
		s.rejected[id]++
		s.mu.Unlock()
		s.dialect.fail(w, *f, requestID)
		return
	}
	s.mu.Lock()
	a := s.accounts[id]
	n := s.accepted[id]
	s.accepted[id]++
	s.mu.Unlock()
	reply := Reply{}
	if len(a.Replies) > 0 {
		reply = a.Replies[min(n, len(a.Replies)-1)]
	}
	if reply.Delay > 0 && !sleep(r.Context(), reply.Delay) {
		return
	}
	switch {
	case reply.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(orDefault(reply.Status, http.StatusOK))
		_, _ = io.WriteString(w, reply.Body)
	case reply.Error != "":
		code := reply.Error
		if code == Throttle {
			code = s.dialect.throttleCode()
		}
		s.dialect.fail(w, failure{status: reply.Status, code: code, message: "fake " + code}, requestID)
	default:
		s.dialect.answer(w, reply, requestID)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// authorization splits "ALGORITHM Credential=..., SignedHeaders=..., Signature=..." (the header
// both TC3 and VolcEngine's V4-style signatures use).
func authorization(header, algorithm string) (credential, signedHeaders, signature string, ok bool) {
	rest, found := strings.CutPrefix(header, algorithm+" ")
	if !found {
		return "", "", "", false
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			return "", "", "", false
		}
		fields[k] = v
	}
	credential, signedHeaders, signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	return credential, signedHeaders, signature, credential != "" && signedHeaders != "" && signature != ""
}

// canonicalHeaders is "name:value\n" for each signed header (the host from the request line).
func canonicalHeaders(r *http.Request, signed []string, lowerValues bool) string {
	var b strings.Builder
	for _, name := range signed {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		v = strings.TrimSpace(v)
		if lowerValues {
			v = strings.ToLower(v)
		}
		b.WriteString(name + ":" + v + "\n")
	}
	return b.String()
}
