package cloudbalancereceiver

import (
	"context"
	"errors"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/bssopenapi"

	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
)

// alicloudProvider reads BSS OpenAPI 2017-12-14 QueryAccountBalance (RPC style, HMAC-SHA1 signature);
// the balance is Data.AvailableAmount, in Data.Currency.
var alicloudProvider = provider{
	attr: metadata.AttributeProviderAlicloud,
	// The predecessor passed an empty region through; the SDK maps cn-hangzhou (like the other
	// mainland regions) to business.aliyuncs.com.
	defaultRegion: "cn-hangzhou",
	query:         queryAlicloud,
	authCode: codeIn([]string{"SignatureDoesNotMatch", "IncompleteSignature", "SignatureNonceUsed", "NoPermission", "NotAuthorized", "MissingSecurityToken"},
		"InvalidAccessKeyId", "InvalidTimeStamp", "Forbidden", "InvalidSecurityToken"),
	throttleCode: codeIn(nil, "Throttling"),
}

func queryAlicloud(_ context.Context, c call) (balance, error) {
	// No SDK retries: throttling is retried by the receiver, everything else is reported at once.
	cfg := sdk.NewConfig().WithScheme("HTTPS").WithAutoRetry(false)
	cfg.Transport = c.client.Transport
	client, err := bssopenapi.NewClientWithOptions(c.region, cfg, credentials.NewAccessKeyCredential(c.id, c.secret))
	if err != nil {
		return balance{}, err
	}
	client.SetReadTimeout(c.timeout)
	client.SetConnectTimeout(c.timeout)
	req := bssopenapi.CreateQueryAccountBalanceRequest()
	req.Scheme = "https"
	if c.endpoint != "" {
		req.Domain = c.endpoint
	}
	// The SDK builds the HTTP request without a context: the transport adds the query's.
	resp, err := client.QueryAccountBalance(req)
	if err != nil {
		var server *sdkerrors.ServerError
		if errors.As(err, &server) {
			return balance{}, &apiError{code: server.ErrorCode(), message: server.Message(), requestID: server.RequestId(), status: server.HttpStatus()}
		}
		var clientErr *sdkerrors.ClientError
		switch {
		case !errors.As(err, &clientErr):
		case clientErr.ErrorCode() == sdkerrors.JsonUnmarshalErrorCode:
			return balance{}, &apiError{code: errInvalidResponse, message: "the body is not the documented JSON", status: resp.GetHttpStatus()}
		case clientErr.OriginError() != nil:
			err = clientErr.OriginError() // the transport's error, for classification
		}
		return balance{}, err
	}
	if !resp.Success {
		return balance{}, &apiError{code: orDefault(resp.Code, errInvalidResponse), message: resp.Message, requestID: resp.RequestId, status: resp.GetHttpStatus()}
	}
	v, err := parseAmount("Data.AvailableAmount", resp.Data.AvailableAmount)
	if err != nil {
		return balance{}, err
	}
	return balance{value: v, currency: resp.Data.Currency}, nil
}
