package domainreceiver

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The classification itself is tested in internal/netclassify; this checks the domain receiver's
// handshake marker reaches it.
func TestHandshakeErrorIsClassified(t *testing.T) {
	assert.Equal(t, reasonTLSHandshake, reason(&handshakeError{err: io.EOF}, testNow))
	assert.Equal(t, "tls handshake: EOF", (&handshakeError{err: io.EOF}).Error())
}
