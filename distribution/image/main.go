// Command image builds the otelcol-sealos container image from the binary, without Docker: a
// scratch image with the binary as ENTRYPOINT, the CA bundle, running as UID 10001. It writes an OCI
// image layout (a directory) and/or a `docker load`-able tarball, reproducibly: the same inputs give
// the same digest (every timestamp is -epoch).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	var opts Options
	flag.StringVar(&opts.Binary, "binary", "bin/otelcol-sealos", "linux collector binary (CGO_ENABLED=0)")
	flag.StringVar(&opts.CABundle, "ca", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied to /etc/ssl/certs/ca-certificates.crt (empty: none)")
	flag.StringVar(&opts.Arch, "arch", "amd64", "image architecture (the binary's GOARCH)")
	flag.StringVar(&opts.Version, "version", "0.1.0", "org.opencontainers.image.version label")
	layoutDir := flag.String("layout", "", "write an OCI image layout to this directory")
	tarPath := flag.String("tar", "", "write a docker-style tarball to this file")
	tag := flag.String("tag", "ghcr.io/labring/otelcol-sealos:0.1.0", "image name in the tarball")
	epoch := flag.Int64("epoch", 0, "Unix time of every timestamp (default: $SOURCE_DATE_EPOCH, else 0)")
	flag.Parse()

	opts.Created = time.Unix(sourceDateEpoch(*epoch), 0).UTC()
	if err := run(opts, *layoutDir, *tarPath, *tag); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func sourceDateEpoch(flagValue int64) int64 {
	if flagValue != 0 {
		return flagValue
	}
	var v int64
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if _, err := fmt.Sscan(s, &v); err == nil {
			return v
		}
	}
	return 0
}

func run(opts Options, layoutDir, tarPath, tag string) error {
	if layoutDir == "" && tarPath == "" {
		return fmt.Errorf("nothing to write: give -layout and/or -tar")
	}
	img, err := Build(opts)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if layoutDir != "" {
		if err := WriteLayout(layoutDir, img, tag); err != nil {
			return err
		}
		fmt.Printf("OCI layout %s (%s)\n", layoutDir, digest)
	}
	if tarPath != "" {
		if err := WriteTarball(tarPath, img, tag); err != nil {
			return err
		}
		fmt.Printf("tarball %s as %s (%s)\n", tarPath, tag, digest)
	}
	return nil
}
