package cloudtest

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NewTencentcloud serves Billing 2018-07-09 DescribeAccountBalance with Tencent Cloud's
// TC3-HMAC-SHA256 signature. Every answer is HTTP 200, errors in Response.Error, as the API does.
func NewTencentcloud(t testing.TB) *Server { return newServer(t, "tencentcloud") }

type tencentcloud struct{}

const tc3 = "TC3-HMAC-SHA256"

func (tencentcloud) throttleCode() string { return "RequestLimitExceeded" }

func (tencentcloud) authenticate(s *Server, r *http.Request, body []byte) (string, *failure) {
	credential, signedHeaders, signature, ok := authorization(r.Header.Get("Authorization"), tc3)
	if !ok {
		return "", &failure{0, "AuthFailure.InvalidAuthorization", "Authorization in the request header is invalid."}
	}
	scope := strings.Split(credential, "/") // SecretId/Date/Service/tc3_request
	id := scope[0]
	if len(scope) != 4 || scope[3] != "tc3_request" {
		return id, &failure{0, "AuthFailure.InvalidAuthorization", "Credential in the Authorization header is invalid."}
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return id, &failure{0, "InvalidParameter", "POST with a JSON body is expected."}
	}
	if a := r.Header.Get("X-TC-Action"); a != "DescribeAccountBalance" {
		return id, &failure{0, "InvalidAction", "The action " + a + " does not exist."}
	}
	if v := r.Header.Get("X-TC-Version"); v != "2018-07-09" {
		return id, &failure{0, "NoSuchVersion", "The version " + v + " does not exist."}
	}
	unix, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(unix, 0)).Abs() > 5*time.Minute {
		return id, &failure{0, "AuthFailure.SignatureExpire", "Signature expired. Timestamp and server time cannot differ by more than five minutes."}
	}
	date, service := scope[1], scope[2]
	signed := strings.Split(signedHeaders, ";")
	if date != time.Unix(unix, 0).UTC().Format("2006-01-02") || service != "billing" ||
		!slices.Contains(signed, "content-type") || !slices.Contains(signed, "host") {
		return id, &failure{0, "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."}
	}
	secret, ok := s.secret(id)
	if !ok {
		return id, &failure{0, "AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct."}
	}
	canonicalRequest := strings.Join([]string{
		r.Method, r.URL.Path, r.URL.RawQuery,
		canonicalHeaders(r, signed, true), signedHeaders, sha256Hex(body),
	}, "\n")
	stringToSign := strings.Join([]string{tc3, r.Header.Get("X-TC-Timestamp"), date + "/" + service + "/tc3_request", sha256Hex([]byte(canonicalRequest))}, "\n")
	key := hmacSHA256(hmacSHA256(hmacSHA256([]byte("TC3"+secret), date), service), "tc3_request")
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return id, &failure{0, "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."}
	}
	return id, nil
}

func (tencentcloud) answer(w http.ResponseWriter, reply Reply, requestID string) {
	fen := json.Number(reply.Balance)
	writeJSON(w, orDefault(reply.Status, http.StatusOK), map[string]any{"Response": map[string]any{
		"Balance":                  fen,
		"Uin":                      100000000001,
		"RealBalance":              fen,
		"CashAccountBalance":       fen,
		"IncomeIntoAccountBalance": 0,
		"PresentAccountBalance":    0,
		"FreezeAmount":             0,
		"OweAmount":                0,
		"IsAllowArrears":           false,
		"IsCreditLimited":          false,
		"CreditAmount":             0,
		"CreditBalance":            0,
		"RealCreditBalance":        0,
		"RequestId":                requestID,
	}})
}

func (tencentcloud) fail(w http.ResponseWriter, f failure, requestID string) {
	writeJSON(w, orDefault(f.status, http.StatusOK), map[string]any{"Response": map[string]any{
		"Error":     map[string]any{"Code": f.code, "Message": f.message},
		"RequestId": requestID,
	}})
}
