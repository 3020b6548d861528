package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// UID and GID the collector runs as (the OpenTelemetry releases' images use the same).
const nonRoot = 10001

// Options are the image's inputs.
type Options struct {
	Binary   string
	CABundle string
	Arch     string
	Version  string
	Created  time.Time
}

// Build returns the image: one layer on an empty (scratch) base.
func Build(opts Options) (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		b, err := rootFS(opts)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		return nil, err
	}
	// OCI media types throughout (the empty base defaults to Docker's).
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		History:   v1.History{CreatedBy: "otelcol-sealos distribution/image", Created: v1.Time{Time: opts.Created}},
		MediaType: types.OCILayer,
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", opts.Arch
	cfg.Created = v1.Time{Time: opts.Created}
	cfg.Config = v1.Config{
		// No CMD and no config baked in: Helm and the Operator pass --config.
		Entrypoint:   []string{"/otelcol-sealos"},
		User:         fmt.Sprintf("%d:%d", nonRoot, nonRoot),
		ExposedPorts: map[string]struct{}{"9090/tcp": {}, "13134/tcp": {}},
		Env:          []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels: map[string]string{
			"org.opencontainers.image.title":   "otelcol-sealos",
			"org.opencontainers.image.source":  "https://github.com/labring/otelcol-sealos",
			"org.opencontainers.image.version": opts.Version,
		},
	}
	return mutate.ConfigFile(img, cfg)
}

// rootFS is the layer's tar: the binary (0755) and the CA bundle, owned by root and not writable by
// the collector's user; fixed timestamps.
func rootFS(opts Options) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(path string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: path, Mode: 0o755, ModTime: opts.Created, Format: tar.FormatPAX})
	}
	file := func(path, src string, mode int64) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("reading %s: %w", src, err)
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode, Size: int64(len(data)), ModTime: opts.Created, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	}
	if err := file("otelcol-sealos", opts.Binary, 0o755); err != nil {
		return nil, err
	}
	if opts.CABundle != "" {
		for _, d := range []string{"etc/", "etc/ssl/", "etc/ssl/certs/"} {
			if err := dir(d); err != nil {
				return nil, err
			}
		}
		if err := file("etc/ssl/certs/ca-certificates.crt", opts.CABundle, 0o644); err != nil {
			return nil, err
		}
	}
	// /tmp for anything that needs a scratch directory under readOnlyRootFilesystem (mount an emptyDir).
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: opts.Created, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout writes img as the only image of an OCI layout at dir, annotated with its tag.
func WriteLayout(dir string, img v1.Image, tag string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
}

// WriteTarball writes img as a docker-style tarball (`docker load`, `crane push`).
func WriteTarball(path string, img v1.Image, tag string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(path, ref, img)
}
