package imagepullreceiver

import (
	"path"
	"strings"
	"sync"
	"unique"

	"github.com/distribution/reference"
)

// unknownRegistry labels an image whose reference does not parse (or is empty).
const unknownRegistry = "unknown"

// registryOf returns the registry host[:port] of an image reference as the container runtime
// resolves it: nginx and library/nginx are docker.io, localhost:5000/app is localhost:5000.
func registryOf(image string) string {
	registryMu.Lock()
	r, ok := registryCache[image]
	registryMu.Unlock()
	if ok {
		return r
	}
	r = unknownRegistry
	if named, err := reference.ParseNormalizedNamed(image); err == nil {
		r = intern(reference.Domain(named))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if len(registryCache) >= registryCacheSize {
		clear(registryCache) // images repeat across pods and events; start over rather than grow
	}
	registryCache[intern(image)] = r
	return r
}

// registryCacheSize bounds the images whose registry is remembered: parsing a reference runs
// several regular expressions, the largest part of an event's transform.
const registryCacheSize = 4096

var (
	registryMu    sync.Mutex
	registryCache = map[string]string{}
)

// registries decides which registries are reported.
type registries struct {
	include, exclude []string
}

func newRegistries(f RegistryFilter) registries {
	lower := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = strings.ToLower(p)
		}
		return out
	}
	return registries{include: lower(f.Include), exclude: lower(f.Exclude)}
}

// allowed reports whether registry is selected: it matches an include pattern (or none are set)
// and no exclude pattern.
func (r registries) allowed(registry string) bool {
	registry = strings.ToLower(registry)
	return (len(r.include) == 0 || matchAny(r.include, registry)) && !matchAny(r.exclude, registry)
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok { // patterns were validated
			return true
		}
	}
	return false
}

// intern returns one shared copy of s: node, registry, image, namespace and reason strings repeat
// across thousands of pods and events.
func intern(s string) string { return unique.Make(s).Value() }
