package imagepullreceiver

import "strings"

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
// the reason is not a pull failure. The image's own name is removed from the message first, so
// an image called notfound-exporter or unauthorized-demo cannot decide the class.
func classify(reason, message, image string) string {
	if !pullFailureReasons[reason] {
		return ""
	}
	if reason != "ErrImagePull" && reason != "ImagePullBackOff" {
		return intern(strings.ToLower(reason))
	}
	msg := strings.ToLower(message)
	if image != "" {
		msg = strings.ReplaceAll(msg, strings.ToLower(image), "")
	}
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
