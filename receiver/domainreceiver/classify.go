package domainreceiver

import "github.com/labring/otelcol-sealos/internal/netclassify"

// Failure reasons, the error_type attribute: the classifier shared with the other network-checking
// receivers (internal/netclassify).
const (
	reasonNone         = netclassify.None
	reasonDNSNoAnswer  = netclassify.DNSNoAnswer
	reasonTLSHandshake = netclassify.TLSHandshake
	reasonHTTPStatus   = netclassify.HTTPStatus
	reasonUnknown      = netclassify.Unknown
)

var (
	dnsReason      = netclassify.DNS      // classifies a failed lookup
	reason         = netclassify.Reason   // classifies a failed connection, handshake, verification or request
	validityReason = netclassify.Validity // expired or not yet valid
)

// handshakeError marks an error of the TLS handshake (after TCP connected).
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "tls handshake: " + e.err.Error() }

// Unwrap hands the shared classifier its handshake marker.
func (e *handshakeError) Unwrap() error { return &netclassify.HandshakeError{Err: e.err} }
