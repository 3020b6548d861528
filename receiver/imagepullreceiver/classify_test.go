package imagepullreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		reason, message, image, want string
	}{
		{"ErrImagePull", "rpc error: code = NotFound desc = failed to resolve reference", "x", classImageNotFound},
		{"ErrImagePull", "manifest unknown: manifest unknown", "x", classImageNotFound},
		// Order matters, as in the predecessor: a proxy refusing the connection is a proxy error.
		{"ErrImagePull", "proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused", "x", classProxyError},
		{"ErrImagePull", "401 UNAUTHORIZED", "x", classUnauthorized},
		{"ErrImagePull", "authentication required", "x", classUnauthorized},
		{"ErrImagePull", "remote error: tls handshake failure", "x", classTLSHandshakeError},
		{"ErrImagePull", "dial tcp: i/o timeout", "x", classIOTimeout},
		{"ErrImagePull", "connect: connection refused", "x", classConnRefused},
		{"ErrImagePull", `failed to do request: Head "https://r/v2/": EOF`, "x", classNetworkError},
		{"ImagePullBackOff", `Back-off pulling image "nginx"`, "nginx", classBackOff},
		// Kubelets that append the last error to the back-off message name the cause directly.
		{"ImagePullBackOff", `Back-off pulling image "nginx": ErrImagePull: rpc error: code = NotFound desc = not found`, "nginx", classImageNotFound},
		{"ErrImagePull", "something new", "x", classUnknown},
		{"InvalidImageName", "anything", "X", "invalidimagename"},
		{"RegistryUnavailable", "", "x", "registryunavailable"},
		{"ContainerCreating", "", "x", ""},
		{"CrashLoopBackOff", "back-off 5m0s restarting failed container", "x", ""},
		// The image's own name never decides the class.
		{"ImagePullBackOff", `Back-off pulling image "ghcr.io/acme/notfound-exporter:1"`, "ghcr.io/acme/notfound-exporter:1", classBackOff},
		{"ErrImagePull", `failed to pull "unauthorized-demo:1": dial tcp: i/o timeout`, "unauthorized-demo:1", classIOTimeout},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, classify(tt.reason, tt.message, tt.image), "%s: %s", tt.reason, tt.message)
	}
}

func TestRegistryOf(t *testing.T) {
	tests := map[string]string{
		"nginx":                                      "docker.io",
		"library/nginx:1.27":                         "docker.io",
		"docker.io/library/nginx":                    "docker.io",
		"index.docker.io/library/nginx":              "docker.io",
		"user/app":                                   "docker.io",
		"localhost:5000/x":                           "localhost:5000",
		"localhost/x":                                "localhost",
		"registry.example.com:5000/team/app:1.2":     "registry.example.com:5000",
		"quay.io/org/app@" + digest:                  "quay.io",
		"[2001:db8::1]:5000/app:1":                   "[2001:db8::1]:5000",
		"registry.cn-hangzhou.aliyuncs.com/ns/app:1": "registry.cn-hangzhou.aliyuncs.com",
		"Registry.Example.com/App":                   unknownRegistry, // uppercase repository: invalid
		"":                                           unknownRegistry,
	}
	for image, want := range tests {
		assert.Equal(t, want, registryOf(image), image)
	}
}

func TestRegistries(t *testing.T) {
	all := newRegistries(RegistryFilter{})
	assert.True(t, all.allowed("anything.example.com:5000"))

	r := newRegistries(RegistryFilter{Include: []string{"*.aliyuncs.com", "docker.io", "localhost:*"}, Exclude: []string{"registry.cn-*.aliyuncs.com", "*.INTERNAL"}})
	for registry, want := range map[string]bool{
		"docker.io":                         true,
		"ghcr.io":                           false, // not included
		"crpi-x.cn-hangzhou.aliyuncs.com":   true,
		"registry.cn-hangzhou.aliyuncs.com": false, // excluded
		"localhost:5000":                    true,
		"Docker.IO":                         true, // case-insensitive
		"harbor.internal":                   false,
		"unknown":                           false,
	} {
		assert.Equal(t, want, r.allowed(registry), registry)
	}
}

func TestWithoutImage(t *testing.T) {
	msg := `failed to pull and unpack image "docker.io/library/notfound-x:1": docker.io/library/notfound-x:1: unauthorized; notfound-x:1 again; proxyconnect`
	assert.Equal(t, "failed to pull and unpack image : : unauthorized;  again; proxyconnect", withoutImage(msg, "notfound-x:1"))
	assert.Equal(t, "proxyconnect ", withoutImage("proxyconnect x", "x"), "the x inside proxyconnect stays")
}
