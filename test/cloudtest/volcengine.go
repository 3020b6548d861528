package cloudtest

import (
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// NewVolcengine serves Billing 2022-01-01 QueryBalanceAcct with VolcEngine's HMAC-SHA256
// signature (V4 style: a key derived from the date, region and service, scope suffix "request").
// AccountID in answers is above 2^31, as VolcEngine account ids are becoming.
func NewVolcengine(t testing.TB) *Server { return newServer(t, "volcengine") }

type volcengine struct{}

const (
	volcAlgorithm = "HMAC-SHA256"
	volcAccountID = 3100000001
)

func (volcengine) throttleCode() string { return "FlowLimitExceeded" }

func (volcengine) authenticate(s *Server, r *http.Request, body []byte) (string, *failure) {
	q := r.URL.Query()
	if q.Get("Action") != "QueryBalanceAcct" || q.Get("Version") != "2022-01-01" {
		return "", &failure{http.StatusNotFound, "InvalidActionOrVersion", "Could not find operation " + q.Get("Action") + " for version " + q.Get("Version") + "."}
	}
	credential, signedHeaders, signature, ok := authorization(r.Header.Get("Authorization"), volcAlgorithm)
	if !ok {
		return "", &failure{http.StatusUnauthorized, "MissingAuthenticationToken", "Request is missing Authentication Token."}
	}
	scope := strings.Split(credential, "/") // AccessKey/Date/Region/Service/request
	id := scope[0]
	if len(scope) != 5 || scope[4] != "request" || scope[3] != "billing" || scope[2] == "" {
		return id, &failure{http.StatusBadRequest, "MissingRequestInfo", "The request is missing Service or Region information."}
	}
	xDate := r.Header.Get("X-Date")
	ts, err := time.Parse("20060102T150405Z", xDate)
	if err != nil || time.Since(ts).Abs() > 15*time.Minute || scope[1] != xDate[:8] {
		return id, &failure{http.StatusBadRequest, "InvalidTimestamp", "The signature of the request is expired."}
	}
	secret, ok := s.secret(id)
	if !ok {
		// As VolcEngine does, the message echoes the key id.
		return id, &failure{http.StatusUnauthorized, "InvalidAccessKey", "The accesskey [" + id + "] included in the request is invalid."}
	}
	signed := strings.Split(signedHeaders, ";")
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-date") ||
		(r.Header.Get("X-Content-Sha256") != "" && r.Header.Get("X-Content-Sha256") != sha256Hex(body)) {
		return id, &failure{http.StatusUnauthorized, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	canonicalRequest := strings.Join([]string{
		r.Method, orPath(r.URL.EscapedPath()), volcCanonicalQuery(q),
		canonicalHeaders(r, signed, false), signedHeaders, sha256Hex(body),
	}, "\n")
	stringToSign := strings.Join([]string{volcAlgorithm, xDate, strings.Join(scope[1:], "/"), sha256Hex([]byte(canonicalRequest))}, "\n")
	key := []byte(secret)
	for _, part := range scope[1:] { // date, region, service, "request"
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return id, &failure{http.StatusUnauthorized, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method."}
	}
	return id, nil
}

func orPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// volcCanonicalQuery sorts the parameters and percent-encodes them (RFC 3986, space as %20).
func volcCanonicalQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

func metadata(requestID, region string, err *failure) map[string]any {
	m := map[string]any{
		"RequestId": requestID,
		"Action":    "QueryBalanceAcct",
		"Version":   "2022-01-01",
		"Service":   "billing",
		"Region":    region,
	}
	if err != nil {
		m["Error"] = map[string]any{"CodeN": 100000, "Code": err.code, "Message": err.message}
	}
	return m
}

func (volcengine) answer(w http.ResponseWriter, reply Reply, requestID string) {
	writeJSON(w, orDefault(reply.Status, http.StatusOK), map[string]any{
		"ResponseMetadata": metadata(requestID, "cn-beijing", nil),
		"Result": map[string]any{
			"AccountID":        volcAccountID,
			"AvailableBalance": reply.Balance,
			"CashBalance":      reply.Balance,
			"ArrearsBalance":   "0.00",
			"CreditLimit":      "0.00",
			"FreezeAmount":     "0.00",
		},
	})
}

func (v volcengine) fail(w http.ResponseWriter, f failure, requestID string) {
	status := f.status
	if status == 0 {
		status = http.StatusBadRequest
		if f.code == v.throttleCode() {
			status = http.StatusTooManyRequests
		}
	}
	writeJSON(w, status, map[string]any{"ResponseMetadata": metadata(requestID, "cn-beijing", &f)})
}
