package registrytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Access is one grant of a token: e.g. repository "library/app" with actions pull and push.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// TokenServer is a Docker Registry token service on loopback: GET /token with HTTP Basic
// credentials of a known user answers a JWT (ES256, signed by a key whose certificate the registry
// trusts, sent in the x5c header) granting the requested scopes; anything else is 401.
type TokenServer struct {
	Service string
	Issuer  string

	users    map[string]string
	key      *ecdsa.PrivateKey
	cert     *x509.Certificate
	srv      *http.Server
	url      string
	requests atomic.Int64
	denied   atomic.Int64
}

// NewTokenServer starts a token service for users (name → password) on a free loopback port.
func NewTokenServer(users map[string]string) (*TokenServer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otelcol-sealos test token signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &TokenServer{Service: "otelcol-sealos-test-registry", Issuer: "otelcol-sealos-test-token-issuer", users: users, key: key, cert: cert, url: "http://" + l.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// NewTokenServerT starts a token service for the test and stops it at its end.
func NewTokenServerT(t testing.TB, users map[string]string) *TokenServer {
	t.Helper()
	s, err := NewTokenServer(users)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the service.
func (s *TokenServer) Close() { _ = s.srv.Close() }

// Realm is the URL the registry sends clients to for a token.
func (s *TokenServer) Realm() string { return s.url + "/token" }

// CertPEM is the signing certificate: the registry's rootcertbundle.
func (s *TokenServer) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert.Raw})
}

// Requests is how many token requests arrived; Denied how many were refused.
func (s *TokenServer) Requests() int64 { return s.requests.Load() }
func (s *TokenServer) Denied() int64   { return s.denied.Load() }

func (s *TokenServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	user, password, ok := r.BasicAuth()
	want, known := s.users[user]
	if r.URL.Path != "/token" || !ok || !known || subtle.ConstantTimeCompare([]byte(password), []byte(want)) != 1 ||
		r.URL.Query().Get("service") != s.Service {
		s.denied.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
		return
	}
	var access []Access
	for _, scope := range r.URL.Query()["scope"] {
		for _, one := range strings.Fields(scope) {
			// type:name:actions, where the name may hold a port (registry:5000/repo)
			first, last := strings.Index(one, ":"), strings.LastIndex(one, ":")
			if first < 0 || first == last {
				continue
			}
			access = append(access, Access{Type: one[:first], Name: one[first+1 : last], Actions: strings.Split(one[last+1:], ",")})
		}
	}
	token, err := s.Mint(user, access...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": token, "access_token": token, "expires_in": 300, "issued_at": time.Now().UTC().Format(time.RFC3339)})
}

// Mint signs a token for subject with the grants, valid for five minutes.
func (s *TokenServer) Mint(subject string, access ...Access) (string, error) {
	if access == nil {
		access = []Access{}
	}
	jti := make([]byte, 8)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	now := time.Now()
	claims, err := json.Marshal(map[string]any{
		"iss": s.Issuer, "sub": subject, "aud": s.Service,
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": hex.EncodeToString(jti), "access": access,
	})
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(s.cert.Raw)})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key}, opts)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(claims)
	if err != nil {
		return "", err
	}
	token, err := obj.CompactSerialize()
	if err != nil {
		return "", errors.Join(errors.New("serializing the token"), err)
	}
	return token, nil
}
