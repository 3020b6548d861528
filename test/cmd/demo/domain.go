package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labring/otelcol-sealos/test/k8stest"
)

// Loopback HTTPS servers the domain receiver's demo targets point at (config/demo.yaml).
const (
	demoDomainValid   = "127.0.0.1:9443" // localhost, certificate valid for 30 days
	demoDomainExpired = "127.0.0.1:9444" // localhost, certificate expired 2 days ago
)

// startDomainTargets starts the two HTTPS servers with certificates from a fresh demo CA and
// exports the CA file as DEMO_DOMAIN_CA_FILE (config/demo.yaml's ca_file). They run until the
// demo exits.
func startDomainTargets(_ context.Context, _ *k8stest.Cluster) error {
	step("starting HTTPS servers for the domain receiver: localhost on %s (valid) and %s (expired)", demoDomainValid, demoDomainExpired)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otelcol-sealos demo CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	caFile := filepath.Join(os.TempDir(), "otelcol-sealos-demo-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return err
	}
	if err := os.Setenv("DEMO_DOMAIN_CA_FILE", caFile); err != nil {
		return err
	}
	for i, s := range []struct {
		addr                string
		notBefore, notAfter time.Time
	}{
		{demoDomainValid, now.Add(-time.Hour), now.Add(30 * 24 * time.Hour)},
		{demoDomainExpired, now.Add(-90 * 24 * time.Hour), now.Add(-48 * time.Hour)},
	} {
		if err := serveDemoHTTPS(s.addr, ca, caKey, int64(i+2), s.notBefore, s.notAfter); err != nil {
			return err
		}
	}
	return nil
}

func serveDemoHTTPS(addr string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, serial int64, notBefore, notAfter time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("domain demo target %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // the expired server's failed handshakes are expected
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	return nil
}
