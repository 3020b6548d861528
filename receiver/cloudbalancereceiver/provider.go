package cloudbalancereceiver

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
)

// provider reads one account's balance through the provider's SDK.
type provider struct {
	attr          metadata.AttributeProvider
	defaultRegion string
	// query makes one request. It returns an *apiError for an answer that is not a balance, and
	// the SDK's transport error otherwise.
	query func(ctx context.Context, c call) (balance, error)
	// authCode and throttleCode classify the provider's error codes.
	authCode, throttleCode func(code string) bool
}

var providers = map[string]*provider{
	"alicloud":     &alicloudProvider,
	"tencentcloud": &tencentcloudProvider,
	"volcengine":   &volcengineProvider,
}

func providerNames() []string {
	names := make([]string, 0, len(providers))
	for name := range providers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// call is what one request needs.
type call struct {
	region   string
	endpoint string // host[:port]; empty: the SDK's default for the region
	id       string
	secret   string
	client   *http.Client // carries the query's context and records the HTTP status
	timeout  time.Duration
}

type balance struct {
	value    float64
	currency string
}

// apiError is a provider's answer that is not a balance: an error code, or a body that could not
// be read (code errInvalidResponse). Its text can quote the request (Alibaba Cloud echoes the
// string it signed): it is redacted before it goes anywhere.
type apiError struct {
	code      string
	message   string
	requestID string
	status    int // HTTP status, 0 if unknown
}

const errInvalidResponse = "invalid_response"

func (e *apiError) Error() string {
	var b strings.Builder
	if e.code == errInvalidResponse {
		b.WriteString("unreadable answer")
	} else {
		b.WriteString(e.code)
	}
	if e.status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.status)
	}
	if e.requestID != "" {
		fmt.Fprintf(&b, " request id %s", e.requestID)
	}
	if e.message != "" {
		b.WriteString(": ")
		b.WriteString(e.message)
	}
	return b.String()
}

// parseAmount reads a decimal amount as the providers write it: "10,000.00".
func parseAmount(field, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, &apiError{code: errInvalidResponse, message: fmt.Sprintf("%s %q is not a number", field, s)}
	}
	return v, nil
}

// callTransport sends each request of one query with the query's context (the Alibaba Cloud SDK
// builds its requests without one) and keeps the last HTTP status, which classifies errors that
// carry no provider code (a gateway's 429 or 503).
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	status atomic.Int32
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req.WithContext(t.ctx))
	if resp != nil {
		t.status.Store(int32(resp.StatusCode))
	}
	return resp, err
}

// codeIn returns a matcher for error codes equal to one of exact or starting with one of prefixes.
func codeIn(exact []string, prefixes ...string) func(string) bool {
	return func(code string) bool {
		if slices.Contains(exact, code) {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(code, p) {
				return true
			}
		}
		return false
	}
}
