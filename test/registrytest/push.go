package registrytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// OCI media types of the pushed image.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int    `json:"size"`
}

// Push uploads a small OCI image (a config and one layer) as repository:tag over the registry's
// HTTP API (monolithic blob uploads, then the manifest) and returns the manifest's digest. Behind
// a token service, it uses a push token minted by that service.
func (r *Registry) Push(repository, tag string) (string, error) {
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("otelcol-sealos test layer for " + repository + ":" + tag)
	var blobs []descriptor
	for _, b := range []struct {
		mediaType string
		data      []byte
	}{{mediaTypeConfig, config}, {mediaTypeLayer, layer}} {
		d, err := r.uploadBlob(repository, b.data)
		if err != nil {
			return "", err
		}
		blobs = append(blobs, descriptor{MediaType: b.mediaType, Digest: d, Size: len(b.data)})
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": MediaTypeManifest, "config": blobs[0], "layers": blobs[1:],
	})
	if err != nil {
		return "", err
	}
	resp, err := r.do(repository, http.MethodPut, r.URL+"/v2/"+repository+"/manifests/"+tag, MediaTypeManifest, manifest)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("PUT manifest %s:%s: %s", repository, tag, resp.Status)
	}
	return digestOf(manifest), nil
}

// PushT pushes for a test, failing it on error.
func (r *Registry) PushT(t testing.TB, repository, tag string) string {
	t.Helper()
	d, err := r.Push(repository, tag)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (r *Registry) uploadBlob(repository string, data []byte) (string, error) {
	resp, err := r.do(repository, http.MethodPost, r.URL+"/v2/"+repository+"/blobs/uploads/", "", nil)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("starting a blob upload to %s: %s", repository, resp.Status)
	}
	loc, err := resp.Location() // absolute, resolved against the request URL
	if err != nil {
		return "", fmt.Errorf("blob upload to %s: %w", repository, err)
	}
	digest := digestOf(data)
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	resp, err = r.do(repository, http.MethodPut, loc.String(), "application/octet-stream", data)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("finishing a blob upload to %s: %s", repository, resp.Status)
	}
	return digest, nil
}

// do sends one request (with a push token behind a token service) and drains the response.
func (r *Registry) do(repository, method, target, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.token != nil {
		token, err := r.token.Mint("pusher", Access{Type: "repository", Name: repository, Actions: []string{"pull", "push"}})
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, redactQuery(target), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp, nil
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// redactQuery drops the upload state from a URL for error messages.
func redactQuery(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	u.RawQuery = ""
	return u.String()
}
