package cloudbalancereceiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// The error_type values besides api:<code>.
const (
	errorAuth            = "auth"
	errorThrottled       = "throttled"
	errorTimeout         = "timeout"
	errorNetwork         = "network"
	errorCredentials     = "credentials"
	errorInvalidResponse = errInvalidResponse
)

// classify names why a request failed. status is the last HTTP status seen (0: none); ctx is the
// query's, whose end turns any failure without a provider code into a timeout.
func (p *provider) classify(ctx context.Context, err error, status int) string {
	var api *apiError
	if errors.As(err, &api) && api.code != "" && api.code != errInvalidResponse {
		switch {
		case p.throttleCode(api.code):
			return errorThrottled
		case p.authCode(api.code):
			return errorAuth
		}
		return "api:" + api.code
	}
	// No provider code: an HTTP status from a gateway, a body that is not the documented one, or
	// what the transport said.
	switch {
	case status == http.StatusTooManyRequests:
		return errorThrottled
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return errorAuth
	case status >= 300:
		return fmt.Sprintf("api:http_%d", status)
	case api != nil:
		return errorInvalidResponse
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		return errorInvalidResponse
	}
	var netErr net.Error
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return errorTimeout
	}
	return errorNetwork
}
