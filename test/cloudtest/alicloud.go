package cloudtest

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is Alibaba Cloud's RPC signature
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// NewAlicloud serves BSS OpenAPI 2017-12-14 QueryAccountBalance with Alibaba Cloud's RPC
// signature (SignatureVersion 1.0, HMAC-SHA1 over the canonicalized query).
func NewAlicloud(t testing.TB) *Server { return newServer(t, "alicloud") }

type alicloud struct{}

func (alicloud) throttleCode() string { return "Throttling.User" }

func (alicloud) authenticate(s *Server, r *http.Request, body []byte) (string, *failure) {
	params := r.URL.Query()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", &failure{http.StatusBadRequest, "InvalidParameter", "the form body cannot be parsed"}
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	id := params.Get("AccessKeyId")
	for _, p := range []string{"AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "Action", "Version", "Format"} {
		if params.Get(p) == "" {
			return id, &failure{http.StatusBadRequest, "MissingParameter", "The input parameter \"" + p + "\" that is mandatory for processing this request is not supplied."}
		}
	}
	if params.Get("SignatureMethod") != "HMAC-SHA1" || params.Get("SignatureVersion") != "1.0" {
		return id, &failure{http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards."}
	}
	if params.Get("Action") != "QueryAccountBalance" {
		return id, &failure{http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}
	}
	if params.Get("Version") != "2017-12-14" {
		return id, &failure{http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid."}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", params.Get("Timestamp"))
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return id, &failure{http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
	}
	secret, ok := s.secret(id)
	if !ok {
		return id, &failure{http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	stringToSign := aliStringToSign(r.Method, params)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(params.Get("Signature"))) {
		// As Alibaba Cloud does, the message echoes what the server signed (the key id included).
		return id, &failure{http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:" + stringToSign}
	}
	if !s.useNonce(params.Get("SignatureNonce")) {
		return id, &failure{http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already."}
	}
	return id, nil
}

// aliStringToSign is Method&%2F&percentEncode(the sorted, percent-encoded parameters but Signature).
func aliStringToSign(method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, aliPercentEncode(k)+"="+aliPercentEncode(params.Get(k)))
	}
	return method + "&" + aliPercentEncode("/") + "&" + aliPercentEncode(strings.Join(pairs, "&"))
}

// aliPercentEncode is RFC 3986 encoding: space as %20, * as %2A, ~ kept.
func aliPercentEncode(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

func (alicloud) answer(w http.ResponseWriter, reply Reply, requestID string) {
	writeJSON(w, orDefault(reply.Status, http.StatusOK), map[string]any{
		"Code":      "200",
		"Message":   "success",
		"RequestId": requestID,
		"Success":   true,
		"Data": map[string]any{
			"AvailableAmount":     reply.Balance,
			"AvailableCashAmount": reply.Balance,
			"CreditAmount":        "0.00",
			"MybankCreditAmount":  "0.00",
			"QuotaLimit":          "0.00",
			"Currency":            reply.Currency,
		},
	})
}

func (alicloud) fail(w http.ResponseWriter, f failure, requestID string) {
	writeJSON(w, orDefault(f.status, http.StatusBadRequest), map[string]any{
		"RequestId": requestID,
		"HostId":    "business.aliyuncs.com",
		"Code":      f.code,
		"Message":   f.message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + f.code + "&product=BssOpenApi",
	})
}
