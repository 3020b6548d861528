package cloudbalancereceiver

import (
	"context"
	"errors"

	"github.com/volcengine/volcengine-go-sdk/service/billing"
	"github.com/volcengine/volcengine-go-sdk/volcengine"
	"github.com/volcengine/volcengine-go-sdk/volcengine/credentials"
	"github.com/volcengine/volcengine-go-sdk/volcengine/session"
	"github.com/volcengine/volcengine-go-sdk/volcengine/volcengineerr"

	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
)

// volcengineProvider reads Billing 2022-01-01 QueryBalanceAcct (HMAC-SHA256 signature, V4 style); the
// balance is AvailableBalance.
var volcengineProvider = provider{
	attr: metadata.AttributeProviderVolcengine,
	// The SDK signs for a region and has no default.
	defaultRegion: "cn-beijing",
	query:         queryVolcengine,
	authCode: codeIn([]string{"MissingAuthenticationToken", "MissingSignature", "InvalidTimestamp", "InvalidAccessKey",
		"SignatureDoesNotMatch", "InvalidAuthorization", "InvalidCredential", "InvalidSecretToken", "LackPolicy", "AccessDenied"}),
	throttleCode: codeIn([]string{"FlowLimitExceeded", "Throttling", "RequestLimitExceeded"}, "RateLimitExceeded"),
}

func queryVolcengine(ctx context.Context, c call) (balance, error) {
	cfg := volcengine.NewConfig().
		WithRegion(c.region).
		WithCredentials(credentials.NewStaticCredentials(c.id, c.secret, "")).
		WithHTTPClient(c.client).
		WithDisableSSL(false).
		WithMaxRetries(0) // throttling is retried by the receiver, everything else is reported at once
	if c.endpoint != "" {
		cfg = cfg.WithEndpoint(c.endpoint)
	}
	sess, err := session.NewSession(cfg)
	if err != nil {
		return balance{}, err
	}
	// The SDK's typed output declares AccountID as int32, which account ids above 2^31 overflow
	// (the whole call then fails): read the same call's generic output instead.
	out, err := billing.New(sess).QueryBalanceAcctCommonWithContext(ctx, &map[string]any{})
	if err != nil {
		var failure volcengineerr.RequestFailure
		if errors.As(err, &failure) {
			return balance{}, &apiError{code: failure.Code(), message: failure.Message(), requestID: failure.RequestID(), status: failure.StatusCode()}
		}
		var sdkErr volcengineerr.Error
		if errors.As(err, &sdkErr) && sdkErr.OrigErr() != nil {
			err = sdkErr.OrigErr() // the transport's error, for classification
		}
		return balance{}, err
	}
	result, _ := (*out)["Result"].(map[string]any)
	available, ok := result["AvailableBalance"].(string)
	if !ok {
		return balance{}, &apiError{code: errInvalidResponse, message: "Result.AvailableBalance is missing or not a string"}
	}
	v, err := parseAmount("Result.AvailableBalance", available)
	if err != nil {
		return balance{}, err
	}
	return balance{value: v}, nil
}
