package cloudbalancereceiver

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
)

// tencentcloudProvider reads Billing 2018-07-09 DescribeAccountBalance (TC3-HMAC-SHA256 signature); the
// balance is RealBalance, in fen.
//
// The per-product module tencentcloud/billing is not served by the module proxy we build from, so
// the request and response types below declare the call as that module's generated code does, and
// the official common module (client, TC3 signing, error parsing) sends it.
var tencentcloudProvider = provider{
	attr: metadata.AttributeProviderTencentcloud,
	// Billing is a global API: no region is needed (the SDK then sends no X-TC-Region).
	defaultRegion: "",
	query:         queryTencentcloud,
	authCode:      codeIn([]string{"UnauthorizedOperation"}, "AuthFailure", "UnauthorizedOperation."),
	throttleCode:  codeIn(nil, "RequestLimitExceeded"),
}

const (
	tencentBillingService  = "billing"
	tencentBillingVersion  = "2018-07-09"
	tencentBillingEndpoint = "billing.tencentcloudapi.com"
	// fenPerYuan converts RealBalance (fen) into the currency unit, as the predecessor did.
	fenPerYuan = 100
)

type describeAccountBalanceRequest struct {
	*tchttp.BaseRequest
}

type describeAccountBalanceResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		// RealBalance is the available balance in fen.
		RealBalance *float64 `json:"RealBalance"`
		RequestID   *string  `json:"RequestId"`
	} `json:"Response"`
}

func queryTencentcloud(ctx context.Context, c call) (balance, error) {
	prof := profile.NewClientProfile()
	prof.HttpProfile.Scheme = "HTTPS"
	prof.HttpProfile.ReqMethod = "POST"
	prof.HttpProfile.Endpoint = orDefault(c.endpoint, tencentBillingEndpoint)
	prof.HttpProfile.ReqTimeout = int(math.Ceil(c.timeout.Seconds()))
	// No SDK retries (they are off by default): throttling is retried by the receiver.
	client := common.NewCommonClient(common.NewCredential(c.id, c.secret), c.region, prof).WithHttpTransport(c.client.Transport)

	req := &describeAccountBalanceRequest{BaseRequest: &tchttp.BaseRequest{}}
	req.Init().WithApiInfo(tencentBillingService, tencentBillingVersion, "DescribeAccountBalance")
	req.SetContext(ctx)
	resp := &describeAccountBalanceResponse{BaseResponse: &tchttp.BaseResponse{}}
	if err := client.Send(req, resp); err != nil {
		var sdkErr *tcerrors.TencentCloudSDKError
		if !errors.As(err, &sdkErr) {
			return balance{}, err // transport
		}
		switch {
		case sdkErr.Code == "ClientError.NetworkError" || sdkErr.Code == "ClientError.IOError":
			return balance{}, err // the transport's error (wrapped), for classification
		case strings.HasPrefix(sdkErr.Code, "ClientError."):
			// Produced on our side: an HTTP status other than 200 (the transport keeps the
			// status) or a body that is not the documented JSON.
			return balance{}, &apiError{code: errInvalidResponse, message: sdkErr.Code + " (the SDK could not read it)"}
		}
		return balance{}, &apiError{code: sdkErr.Code, message: sdkErr.Message, requestID: sdkErr.RequestId}
	}
	if resp.Response == nil || resp.Response.RealBalance == nil {
		return balance{}, &apiError{code: errInvalidResponse, message: "Response.RealBalance is missing"}
	}
	// Yuan with 2 decimals, as the predecessor formatted it.
	return balance{value: math.Round(*resp.Response.RealBalance) / fenPerYuan}, nil
}
