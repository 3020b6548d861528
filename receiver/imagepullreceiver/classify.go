package imagepullreceiver

import (
	"strings"

	"github.com/distribution/reference"
)

// Kubelet waiting reasons of a container whose image could not be pulled (pkg/kubelet/images and
// the CRI errors). The predecessor's list plus ErrImageNotEnsured and SignatureValidationFailed.
var pullFailureReasons = map[string]bool{
	"ErrImagePull":              true,
	"ImagePullBackOff":          true,
	"Cancelled":                 true,
	"RegistryUnavailable":       true,
	"InvalidImageName":          true,
	"ImageInspectError":         true,
	"ErrImageNeverPull":         true,
	"ErrImageNotEnsured":        true,
	"SignatureValidationFailed": true,
}

// Failure classes read from a pull error's message.
const (
	classImageNotFound     = "image_not_found"
	classProxyError        = "proxy_error"
	classUnauthorized      = "unauthorized"
	classTLSHandshakeError = "tls_handshake_error"
	classIOTimeout         = "io_timeout"
	classConnRefused       = "connection_refused"
	classNetworkError      = "network_error"
	classBackOff           = "back_off_pulling_image"
	classUnknown           = "unknown"
)

// messageClasses is matched in order against the lower-cased message; the first hit wins.
var messageClasses = []struct {
	class   string
	needles []string
}{
	{classImageNotFound, []string{"not found", "notfound", "manifest unknown", "repository does not exist"}},
	{classProxyError, []string{"proxyconnect", "proxy error"}},
	{classUnauthorized, []string{"unauthorized", "authentication require", "failed to authorize", "authorization failed"}},
	{classTLSHandshakeError, []string{"tls handshake", "failed to verify certificate"}},
	{classIOTimeout, []string{"i/o timeout"}},
	{classConnRefused, []string{"connection refused"}},
	{classNetworkError, []string{"failed to do request"}},
}

// classify returns the failure class of a container waiting with reason and message, or "" if
// the reason is not a pull failure. Quoted text (images, URLs) and the image's name are removed
// from the message first, so an image called notfound-exporter or unauthorized-demo cannot
// decide the class.
func classify(reason, message, image string) string {
	if !pullFailureReasons[reason] {
		return ""
	}
	if reason != "ErrImagePull" && reason != "ImagePullBackOff" {
		return intern(strings.ToLower(reason))
	}
	msg := withoutImage(strings.ToLower(message), strings.ToLower(image))
	for _, mc := range messageClasses {
		for _, n := range mc.needles {
			if strings.Contains(msg, n) {
				return mc.class
			}
		}
	}
	if strings.HasPrefix(msg, "back-off pulling image") {
		return classBackOff
	}
	return classUnknown
}

// specific says whether a class names a cause, as opposed to the back-off or unknown.
func specific(class string) bool {
	return class != "" && class != classBackOff && class != classUnknown
}

// withoutImage removes quoted text and whole occurrences of image (as written, and normalized:
// nginx is also docker.io/library/nginx) from a lower-cased message.
func withoutImage(msg, image string) string {
	var b strings.Builder
	quoted := false
	for _, r := range msg {
		if r == '"' {
			quoted = !quoted
			continue
		}
		if !quoted {
			b.WriteRune(r)
		}
	}
	msg = b.String()
	if image == "" {
		return msg
	}
	if named, err := reference.ParseNormalizedNamed(image); err == nil {
		msg = withoutWord(msg, named.String())
	}
	return withoutWord(msg, image)
}

// withoutWord removes the occurrences of w that are not part of a longer name.
func withoutWord(s, w string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, w)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(w)
		if (i > 0 && nameChar(s[i-1])) || (end < len(s) && nameChar(s[end])) {
			b.WriteString(s[:end]) // inside a longer word: keep
		} else {
			b.WriteString(s[:i])
		}
		s = s[end:]
	}
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}
