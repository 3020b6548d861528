package k8srbacauthextension

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const userAgent = "otelcol-sealos/k8s_rbac_auth"

var (
	errUnauthenticated = errors.New("unauthenticated: a valid Kubernetes bearer token is required")
	errForbidden       = errors.New("forbidden")
	errNotStarted      = errors.New("k8s_rbac_auth: not started")
)

// rbacAuth is both a confighttp server authenticator (`auth: {authenticator: k8s_rbac_auth}`:
// headers only, so it checks Config.Path and every failure is a 401) and an HTTP server
// middleware (`middlewares: [{id: k8s_rbac_auth}]`: checks the request's path and answers
// 401 or 403 itself).
type rbacAuth struct {
	cfg    *Config
	logger *zap.Logger

	mu         sync.Mutex
	rev        *reviewer
	httpClient *http.Client
	// now is the cache clock; tests replace it.
	now func() time.Time
}

var (
	_ extension.Extension            = (*rbacAuth)(nil)
	_ extensionauth.Server           = (*rbacAuth)(nil)
	_ extensionmiddleware.HTTPServer = (*rbacAuth)(nil)
)

func newRBACAuth(cfg *Config, set extension.Settings) *rbacAuth {
	return &rbacAuth{cfg: cfg, logger: set.Logger, now: time.Now}
}

// Start builds the API client. It does not wait for the API server: an unreachable server
// makes requests fail (503 as middleware), it does not stop the collector.
func (a *rbacAuth) Start(_ context.Context, _ component.Host) error {
	rc, err := a.cfg.RestConfig(userAgent)
	if err != nil {
		return err
	}
	httpClient, err := rest.HTTPClientFor(rc)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfigAndClient(rc, httpClient)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.httpClient = httpClient
	a.rev = newReviewer(cs, a.cfg, a.now)
	return nil
}

// Shutdown drops the cache, ends the renewals under way and closes idle API connections; safe
// without Start and twice.
func (a *rbacAuth) Shutdown(context.Context) error {
	a.mu.Lock()
	rev, httpClient := a.rev, a.httpClient
	a.rev, a.httpClient = nil, nil
	a.mu.Unlock()
	if rev != nil {
		rev.close()
	}
	if httpClient != nil {
		httpClient.CloseIdleConnections()
	}
	return nil
}

func (a *rbacAuth) reviewer() *reviewer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rev
}

// Authenticate implements extensionauth.Server: confighttp passes only the headers, so the
// configured path is checked. confighttp answers every error with 401.
func (a *rbacAuth) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	rev := a.reviewer()
	if rev == nil {
		return ctx, errNotStarted
	}
	res, err := rev.review(ctx, bearerToken(headers), a.cfg.Path)
	if err != nil {
		a.logger.Warn("k8s_rbac_auth: review failed", zap.String("path", a.cfg.Path), zap.Error(err))
		return ctx, errors.New("authentication unavailable")
	}
	a.logDecision(res, a.cfg.Path)
	switch res.decision {
	case allowed:
		return withAuthData(ctx, res), nil
	case unauthenticated:
		return ctx, errUnauthenticated
	default:
		return ctx, errForbidden
	}
}

// GetHTTPHandler implements extensionmiddleware.HTTPServer: the request's path is checked,
// a missing or rejected token gets 401, an authenticated but unauthorised one 403.
func (a *rbacAuth) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return func(_ context.Context, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rev := a.reviewer()
			if rev == nil {
				http.Error(w, errNotStarted.Error(), http.StatusServiceUnavailable)
				return
			}
			path := r.URL.Path
			res, err := rev.review(r.Context(), bearerToken(r.Header), path)
			if err != nil {
				a.logger.Warn("k8s_rbac_auth: review failed", zap.String("path", path), zap.Error(err))
				http.Error(w, "authentication unavailable", http.StatusServiceUnavailable)
				return
			}
			a.logDecision(res, path)
			switch res.decision {
			case allowed:
				next.ServeHTTP(w, r.WithContext(withAuthData(r.Context(), res)))
			case unauthenticated:
				w.Header().Set("WWW-Authenticate", `Bearer realm="otelcol-sealos"`)
				http.Error(w, errUnauthenticated.Error(), http.StatusUnauthorized)
			default:
				http.Error(w, errForbidden.Error(), http.StatusForbidden)
			}
		}), nil
	}, nil
}

// logDecision logs who was decided about; never the token.
func (a *rbacAuth) logDecision(res result, path string) {
	if ce := a.logger.Check(zap.DebugLevel, "k8s_rbac_auth decision"); ce != nil {
		ce.Write(zap.String("decision", res.decision.String()), zap.String("user", res.user.Username), zap.String("path", path))
	}
}
