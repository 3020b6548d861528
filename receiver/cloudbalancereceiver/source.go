package cloudbalancereceiver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"

	"github.com/labring/otelcol-sealos/internal/redact"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/cloudbalancereceiver/internal/metadata"
)

// balanceSource queries every configured account each cycle, concurrently (bounded), each account
// within its own query_timeout.
type balanceSource struct {
	cfg    *Config
	set    receiver.Settings
	mb     *metadata.MetricsBuilder
	getenv func(string) string
	now    func() time.Time

	transports []*http.Transport    // per account, with its TLS settings; built in Start
	kube       kubernetes.Interface // only when an account reads a Secret

	termMu sync.Mutex
	term   statereceiver.Term // the current leadership term; nil between terms

	logged []string // per account: the error_type last logged ("" for success), to log on change
}

func newBalanceSource(cfg *Config, set receiver.Settings) *balanceSource {
	return &balanceSource{
		cfg:    cfg,
		set:    set,
		mb:     metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
		getenv: os.Getenv,
		now:    time.Now,
		logged: make([]string, len(cfg.Accounts)),
	}
}

// Start builds the HTTPS transports and the Kubernetes client; it contacts nothing.
func (s *balanceSource) Start(ctx context.Context, _ component.Host) error {
	for i := range s.cfg.Accounts {
		tlsCfg, err := s.cfg.Accounts[i].TLS.LoadTLSConfig(ctx)
		if err != nil {
			return fmt.Errorf("accounts[%d].tls: %w", i, err)
		}
		s.transports = append(s.transports, &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     tlsCfg,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: 10 * time.Second,
			IdleConnTimeout:     90 * time.Second,
		})
	}
	if !s.cfg.usesSecrets() {
		return nil
	}
	client, _, err := s.cfg.Client("otelcol-sealos/" + s.set.ID.String())
	if err != nil {
		return err
	}
	s.kube = client
	return nil
}

// Lead has nothing to wait for: every cycle asks the providers afresh.
func (s *balanceSource) Lead(ctx context.Context, term statereceiver.Term) {
	s.setTerm(term)
	term.Ready()
	<-ctx.Done()
	s.setTerm(nil)
}

func (s *balanceSource) setTerm(t statereceiver.Term) {
	s.termMu.Lock()
	s.term = t
	s.termMu.Unlock()
}

func (s *balanceSource) report(key string, err error) {
	s.termMu.Lock()
	defer s.termMu.Unlock()
	if s.term != nil {
		s.term.Report(key, err)
	}
}

func (s *balanceSource) Shutdown(context.Context) error {
	for _, t := range s.transports {
		t.CloseIdleConnections()
	}
	return nil
}

// result is one account's outcome this cycle.
type result struct {
	balance   balance
	errorType string // "" on success
	code      string // the provider's error code, when it gave one
	err       error  // redacted
}

// Collect queries every account and reports each one: its balance, or why not. A failing account
// does not fail the cycle (its query_success series says so); a cycle cut short by its context does.
func (s *balanceSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	secrets := newSecretReader(s.kube)
	results := make([]result, len(s.cfg.Accounts))
	slots := make(chan struct{}, s.cfg.MaxConcurrentQueries)
	var wg sync.WaitGroup
	for i := range s.cfg.Accounts {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				results[i] = result{errorType: errorTimeout, err: fmt.Errorf("not queried: the cycle ended first: %w", ctx.Err())}
				return
			}
			defer func() { <-slots }()
			results[i] = s.query(ctx, i, secrets)
		})
	}
	wg.Wait()

	ts := pcommon.NewTimestampFromTime(s.now())
	for i, r := range results {
		a := &s.cfg.Accounts[i]
		attr := providers[a.Provider].attr
		if r.err == nil {
			var opts []metadata.MetricAttributeOption
			if r.balance.currency != "" {
				opts = append(opts, metadata.WithCurrencyMetricAttribute(r.balance.currency))
			}
			s.mb.RecordCloudbalanceBalanceDataPoint(ts, r.balance.value, attr, a.AccountID, opts...)
			s.mb.RecordCloudbalanceQuerySuccessDataPoint(ts, 1, attr, a.AccountID, "")
		} else {
			s.mb.RecordCloudbalanceQuerySuccessDataPoint(ts, 0, attr, a.AccountID, r.errorType)
		}
		s.tell(i, r)
	}
	out := s.mb.Emit()
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("the cycle ended before every account was queried: %w", err)
	}
	return out, nil
}

// query reads one account's balance within query_timeout, retrying only throttled requests.
func (s *balanceSource) query(ctx context.Context, i int, secrets *secretReader) result {
	a := &s.cfg.Accounts[i]
	p := providers[a.Provider]
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	creds, err := resolveCredentials(ctx, a, secrets, s.getenv)
	if err != nil {
		return result{errorType: errorCredentials, err: err} // names the source, never a value
	}
	hidden := secretForms(creds.id, creds.secret)
	c := call{region: orDefault(a.Region, p.defaultRegion), endpoint: a.Endpoint, id: creds.id, secret: creds.secret}
	wait := s.cfg.ThrottleBackoff
	for attempt := 1; ; attempt++ {
		transport := &callTransport{ctx: ctx, base: s.transports[i]}
		c.client = &http.Client{Transport: transport}
		// The context ends the request; the SDKs' own timeouts are only a backstop past it.
		c.timeout = time.Until(deadline(ctx)) + time.Second
		b, err := p.query(ctx, c)
		if err == nil {
			return result{balance: b}
		}
		typ := p.classify(ctx, err, int(transport.status.Load()))
		if typ != errorThrottled || attempt > s.cfg.ThrottleRetries || !sleep(ctx, jitter(wait)) {
			if attempt > 1 {
				err = fmt.Errorf("%w (%d attempts)", err, attempt)
			}
			r := result{errorType: typ, err: redact.Error(fmt.Errorf("%s: %w", typ, err), hidden...)}
			var api *apiError
			if errors.As(err, &api) && api.code != errInvalidResponse {
				r.code = redact.Text(api.code, hidden...)
			}
			return r
		}
		wait *= 2
	}
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline() // query always sets one
	return d
}

// jitter spreads retries of accounts throttled together over up to a quarter more.
func jitter(d time.Duration) time.Duration {
	return d + rand.N(d/4+1)
}

// sleep waits d unless ctx ends first or its deadline is closer than d (no wait that cannot end
// in an attempt); it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if time.Until(deadline(ctx)) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// secretForms returns the credentials as they can appear in an error's text: verbatim, and
// escaped once or twice (Alibaba Cloud echoes the query string it signed, encoded twice).
func secretForms(values ...string) []string {
	var forms []string
	for _, v := range values {
		if v == "" {
			continue
		}
		once := url.QueryEscape(v)
		forms = append(forms, v, once, url.QueryEscape(once), url.PathEscape(v))
	}
	return forms
}

// tell logs an account's outcome when its error type changes (a warning on failure, an info line
// on recovery; every failure at debug level) and shows failures in the component status.
func (s *balanceSource) tell(i int, r result) {
	a := &s.cfg.Accounts[i]
	key := fmt.Sprintf("accounts[%d] %s/%s", i, a.Provider, a.AccountID)
	fields := []zap.Field{zap.String("provider", a.Provider), zap.String("account_id", a.AccountID)}
	if r.err == nil {
		s.report(key, nil)
	} else {
		// The status names the kind and code only: it stays the same from cycle to cycle (request
		// ids change), so it changes only when the account's state does. The log has the detail.
		s.report(key, statusError(r))
		fields = append(fields, zap.String("error_type", r.errorType), zap.Error(r.err))
	}
	if r.errorType == s.logged[i] {
		if r.err != nil {
			s.set.Logger.Debug("cloud balance query failed", fields...)
		}
		return
	}
	s.logged[i] = r.errorType
	if r.err == nil {
		s.set.Logger.Info("cloud balance query succeeds again", fields...)
		return
	}
	s.set.Logger.Warn("cloud balance query failed", fields...)
}

func statusError(r result) error {
	if r.code == "" || r.errorType == "api:"+r.code {
		return errors.New(r.errorType)
	}
	return fmt.Errorf("%s (%s)", r.errorType, r.code)
}
