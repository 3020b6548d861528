package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testOptions builds from the test binary itself: a real executable, small enough to gzip quickly
// (the collector's 200 MB make `make image` take a minute; its content does not matter here).
func testOptions(t *testing.T) Options {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Options{Binary: bin, CABundle: ca, Arch: "amd64", Version: "0.1.0", Created: time.Unix(1700000000, 0).UTC()}
}

func TestImageConfig(t *testing.T) {
	opts := testOptions(t)
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "image.tar")
	if err := run(opts, filepath.Join(dir, "oci"), tarPath, "ghcr.io/labring/otelcol-sealos:test"); err != nil {
		t.Fatal(err)
	}

	// Read back what a registry push would read: the tarball and the OCI layout.
	img, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/otelcol-sealos" {
		t.Errorf("entrypoint %q, want [/otelcol-sealos]", c.Entrypoint)
	}
	if len(c.Cmd) != 0 {
		t.Errorf("cmd %q, want none (Helm and the Operator pass --config)", c.Cmd)
	}
	if c.User != "10001:10001" {
		t.Errorf("user %q, want 10001:10001 (non-root)", c.User)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform %s/%s", cfg.OS, cfg.Architecture)
	}
	if !cfg.Created.Equal(opts.Created) {
		t.Errorf("created %s, want %s", cfg.Created, opts.Created)
	}
	if _, ok := c.ExposedPorts["9090/tcp"]; !ok {
		t.Errorf("exposed ports %v lack 9090/tcp", c.ExposedPorts)
	}

	files := layerFiles(t, img)
	want := map[string]int64{"otelcol-sealos": 0o755, "etc/ssl/certs/ca-certificates.crt": 0o644}
	for path, mode := range want {
		h, ok := files[path]
		if !ok {
			t.Errorf("image lacks %s; has %v", path, keys(files))
			continue
		}
		if h.Mode != mode || h.Uid != 0 {
			t.Errorf("%s: mode %o uid %d, want mode %o owned by root (read-only for the collector)", path, h.Mode, h.Uid, mode)
		}
	}
	binInfo, err := os.Stat(opts.Binary)
	if err != nil {
		t.Fatal(err)
	}
	if files["otelcol-sealos"].Size != binInfo.Size() {
		t.Errorf("binary in the image has %d bytes, the input %d", files["otelcol-sealos"].Size, binInfo.Size())
	}
	for path := range files {
		if path == "bin/sh" || path == "bin/" {
			t.Errorf("scratch image has %s", path)
		}
	}

	// The OCI layout holds the same image.
	idx, err := layout.ImageIndexFromPath(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.Manifests) != 1 {
		t.Fatalf("OCI layout manifests %v, want one", manifest.Manifests)
	}
	fromLayout, err := idx.Image(manifest.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	layoutConfig, _ := fromLayout.ConfigName()
	tarConfig, _ := img.ConfigName()
	if layoutConfig != tarConfig {
		t.Errorf("the layout's image config %s differs from the tarball's %s", layoutConfig, tarConfig)
	}
	if got := manifest.Manifests[0].MediaType; got != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want OCI", got)
	}
	if got := manifest.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != "ghcr.io/labring/otelcol-sealos:test" {
		t.Errorf("ref.name annotation %q", got)
	}
}

// TestImageReproducible: the same inputs give the same digest; a different binary does not.
func TestImageReproducible(t *testing.T) {
	opts := testOptions(t)
	a, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Fatalf("two builds of the same inputs: %s != %s", da, db)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("not the same binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.Binary = other
	c, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	if dc, _ := c.Digest(); dc == da {
		t.Fatalf("a different binary gave the same digest %s", dc)
	}
}

func TestImageMissingBinary(t *testing.T) {
	opts := testOptions(t)
	opts.Binary = filepath.Join(t.TempDir(), "missing")
	err := run(opts, "", filepath.Join(t.TempDir(), "x.tar"), "ghcr.io/labring/otelcol-sealos:test")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want a not-exist error naming the binary, got %v", err)
	}
}

// layerFiles reads every layer's tar headers (the image has one layer).
func layerFiles(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1 on a scratch base", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = h
	}
}

func keys(m map[string]*tar.Header) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
