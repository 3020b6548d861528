// Package netresolve builds the resolver of the receivers that check endpoints by name: the
// system's, or one DNS server's (`dns_server`, for split-horizon setups and tests).
package netresolve

import (
	"context"
	"net"
)

// Resolver asks server (host:port) instead of the system's name servers; "" is the system
// resolver. A lookup whose caller gave up is cancelled but would otherwise keep its socket until
// the resolver's own per-try timeout (5s): closing the socket on cancel frees it at once.
func Resolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	d := &net.Dialer{}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, server)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}}
}
