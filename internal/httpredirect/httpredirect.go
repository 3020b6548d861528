// Package httpredirect is the redirect policy of every HTTP check that sends configured headers:
// headers the user configured for one host never reach another. Go's client copies every header of
// the first request to each redirect and drops only Authorization, Cookie and WWW-Authenticate,
// and only when the redirect leaves the domain (a subdomain keeps them, and so does a switch from
// https to http); an API key in a custom header would be handed to whatever host a redirect names.
package httpredirect

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MaxRedirects is Go's default limit.
const MaxRedirects = 10

// ErrTooManyRedirects ends a check that was redirected more than the limit allows.
var ErrTooManyRedirects = errors.New("stopped after too many redirects")

// credentialHeaders leave with the origin whatever the configuration says.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie"}

// SameOrigin returns an http.Client CheckRedirect function: at most max redirects are followed,
// and a request to another origin than the first request's (scheme, host and port) carries none
// of headers and no credentials. A redirect back to the origin gets them again: Go copies the
// first request's headers to every redirect.
func SameOrigin(max int, headers ...string) func(*http.Request, []*http.Request) error {
	strip := append(append([]string(nil), headers...), credentialHeaders...)
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= max {
			return fmt.Errorf("%w (%d)", ErrTooManyRedirects, max)
		}
		if Origin(req.URL) != Origin(via[0].URL) {
			for _, h := range strip {
				req.Header.Del(h)
			}
		}
		return nil
	}
}

// Origin is scheme://host:port, lower case, with the scheme's default port made explicit.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
