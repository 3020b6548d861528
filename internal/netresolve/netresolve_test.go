package netresolve

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSystemResolverByDefault(t *testing.T) {
	assert.Same(t, net.DefaultResolver, Resolver(""))
}

// A server that never answers: the lookup is sent there and ends with the caller's deadline.
func TestLookupEndsWithTheCaller(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Resolver(pc.LocalAddr().String()).LookupNetIP(ctx, "ip", "silent.test")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the lookup went to the silent server and ended with its caller")
}
