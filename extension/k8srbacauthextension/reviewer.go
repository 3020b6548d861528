package k8srbacauthextension

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// decision is the outcome of a review, mapped to an HTTP status by the middleware.
type decision int

const (
	allowed         decision = iota // 200: authenticated and authorised
	unauthenticated                 // 401: no token, or TokenReview did not authenticate it
	forbidden                       // 403: authenticated, but SubjectAccessReview denies
)

func (d decision) String() string {
	switch d {
	case allowed:
		return "allowed"
	case unauthenticated:
		return "unauthenticated"
	default:
		return "forbidden"
	}
}

type result struct {
	decision decision
	// user is the authenticated identity (empty when unauthenticated).
	user authenticationv1.UserInfo
}

// reviewer asks the API server about a bearer token, remembering answers in a cache.
type reviewer struct {
	client     kubernetes.Interface
	verb       string
	audiences  []string
	timeout    time.Duration
	allowedTTL time.Duration
	deniedTTL  time.Duration
	cache      *decisionCache
	// apiCalls counts TokenReview + SubjectAccessReview requests (tests check the cache with it).
	apiCalls atomic.Int64
}

// review decides whether token may `verb` path. The error (API server unreachable, ...) is
// never cached and never contains the token.
func (r *reviewer) review(ctx context.Context, token, path string) (result, error) {
	if token == "" {
		return result{decision: unauthenticated}, nil
	}
	key := keyFor(token, path)
	if res, ok := r.cache.get(key); ok {
		return res, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := r.ask(ctx, token, path)
	if err != nil {
		return result{}, err
	}
	ttl := r.deniedTTL
	if res.decision == allowed {
		ttl = r.allowedTTL
	}
	r.cache.put(key, res, ttl)
	return res, nil
}

func (r *reviewer) ask(ctx context.Context, token, path string) (result, error) {
	r.apiCalls.Add(1)
	tr, err := r.client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: r.audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return result{}, fmt.Errorf("TokenReview: %w", err)
	}
	if !tr.Status.Authenticated {
		return result{decision: unauthenticated}, nil
	}
	user := tr.Status.User
	r.apiCalls.Add(1)
	sar, err := r.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   user.Username,
			UID:    user.UID,
			Groups: user.Groups,
			Extra:  convertExtra(user.Extra),
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{
				Path: path,
				Verb: r.verb,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return result{}, fmt.Errorf("SubjectAccessReview for %q: %w", user.Username, err)
	}
	if !sar.Status.Allowed || sar.Status.Denied {
		return result{decision: forbidden, user: user}, nil
	}
	return result{decision: allowed, user: user}, nil
}

func convertExtra(in map[string]authenticationv1.ExtraValue) map[string]authorizationv1.ExtraValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]authorizationv1.ExtraValue, len(in))
	for k, v := range in {
		out[k] = authorizationv1.ExtraValue(v)
	}
	return out
}

// bearerToken returns the token of an `Authorization: Bearer <token>` header, looked up
// case-insensitively (HTTP canonicalises the key, gRPC metadata lowercases it).
func bearerToken(headers map[string][]string) string {
	for k, values := range headers {
		if !strings.EqualFold(k, "Authorization") {
			continue
		}
		for _, v := range values {
			scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
			if ok && strings.EqualFold(scheme, "Bearer") {
				if token = strings.TrimSpace(token); token != "" {
					return token
				}
			}
		}
	}
	return ""
}
