package k8srbacauthextension

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	jwtOnly    bool
	cache      *decisionCache
	// slots bounds the reviews of unknown tokens in flight: a flood of made-up tokens waits here,
	// not in the client's rate limiter in front of the renewals.
	slots chan struct{}

	// Renewals of allowed answers run in the background, one per key, while the stale answer is
	// served; stop ends them on Shutdown.
	mu         sync.Mutex
	renewing   map[cacheKey]struct{}
	stopped    bool
	stop       context.CancelFunc
	stopCtx    context.Context
	background sync.WaitGroup

	// apiCalls counts TokenReview + SubjectAccessReview requests (tests check the cache with it).
	apiCalls atomic.Int64
}

var errBusy = errors.New("too many token reviews in flight")

func newReviewer(client kubernetes.Interface, cfg *Config, now func() time.Time) *reviewer {
	ctx, cancel := context.WithCancel(context.Background())
	return &reviewer{
		client: client, verb: cfg.Verb, audiences: cfg.Audiences, timeout: cfg.Timeout,
		allowedTTL: cfg.AllowedTTL, deniedTTL: cfg.DeniedTTL, jwtOnly: cfg.JWTOnly,
		cache:    newDecisionCache(cfg.CacheSize, now),
		slots:    make(chan struct{}, cfg.MaxConcurrentReviews),
		renewing: map[cacheKey]struct{}{}, stop: cancel, stopCtx: ctx,
	}
}

// close cancels the renewals under way and waits for them.
func (r *reviewer) close() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.stop()
	r.background.Wait()
}

// review decides whether token may `verb` path. The error (API server unreachable, ...) is
// never cached and never contains the token.
func (r *reviewer) review(ctx context.Context, token, path string) (result, error) {
	if !r.plausible(token) {
		return result{decision: unauthenticated}, nil // no review can accept it
	}
	key := keyFor(token, path)
	switch res, state := r.cache.get(key); state {
	case fresh:
		return res, nil
	case stale: // only allowed answers have a stale period
		r.renew(key, token, path)
		return res, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return result{}, errBusy
	}
	return r.askAndRemember(ctx, key, token, path)
}

// renew asks again about an allowed token whose answer went stale, in the background and without
// a slot: a renewal is never queued behind unknown tokens.
func (r *reviewer) renew(key cacheKey, token, path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, busy := r.renewing[key]; busy || r.stopped {
		return
	}
	r.renewing[key] = struct{}{}
	r.background.Go(func() {
		defer func() {
			r.mu.Lock()
			delete(r.renewing, key)
			r.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(r.stopCtx, r.timeout)
		defer cancel()
		_, _ = r.askAndRemember(ctx, key, token, path) // a failure keeps the stale answer until it ends
	})
}

func (r *reviewer) askAndRemember(ctx context.Context, key cacheKey, token, path string) (result, error) {
	res, err := r.ask(ctx, token, path)
	if err != nil {
		return result{}, err
	}
	if res.decision == allowed {
		// Served stale for another allowed_ttl at most, while a renewal is under way.
		r.cache.put(key, res, r.allowedTTL, r.allowedTTL)
	} else {
		r.cache.put(key, res, r.deniedTTL, 0)
	}
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

// maxTokenBytes bounds a bearer token: ServiceAccount tokens are about 1 KiB, OIDC ID tokens
// with many groups a few KiB.
const maxTokenBytes = 16 << 10

// plausible: a token a TokenReview could accept. With jwt_only, it must be shaped like a JWT
// (header.payload.signature, base64url, the header a JSON object), as ServiceAccount and OIDC
// tokens are: anything else is refused without asking the API server.
func (r *reviewer) plausible(token string) bool {
	if token == "" || len(token) > maxTokenBytes {
		return false
	}
	if !r.jwtOnly {
		return true
	}
	header, rest, _ := strings.Cut(token, ".")
	payload, signature, ok := strings.Cut(rest, ".")
	if !ok || !base64URL(header) || !base64URL(payload) || !base64URL(signature) {
		return false
	}
	decoded, err := base64.RawURLEncoding.DecodeString(header)
	return err == nil && len(decoded) > 0 && decoded[0] == '{' && json.Valid(decoded)
}

// base64URL: a non-empty run of the unpadded base64url alphabet.
func base64URL(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
		if !letter && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
