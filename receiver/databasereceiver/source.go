package databasereceiver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labring/otelcol-sealos/internal/redact"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/databasereceiver/internal/metadata"
)

// driverSlack puts the drivers' own timeouts just after the check's deadline: the context
// ends every check, so a timeout is always seen as one (not as a driver's "invalid connection").
const driverSlack = time.Second

// databaseSource finds databases (Secrets while leading, plus configured targets) and checks
// each one every cycle.
type databaseSource struct {
	cfg *Config
	set receiver.Settings
	mb  *metadata.MetricsBuilder

	client  kubernetes.Interface // nil without discovery
	static  []target
	tlsConf *tlsConfigs
	watch   *watcher // informers of the current leadership term
	check   map[string]checkFunc
}

func newDatabaseSource(cfg *Config, set receiver.Settings) *databaseSource {
	return &databaseSource{cfg: cfg, set: set, mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set), check: checks, watch: newWatcher()}
}

func (s *databaseSource) Start(ctx context.Context, _ component.Host) error {
	var err error
	if s.tlsConf, err = loadTLS(ctx, s.cfg); err != nil {
		return err
	}
	if s.static, err = staticTargets(ctx, s.cfg.Targets); err != nil {
		return err
	}
	if s.cfg.Discover {
		s.client, _, err = s.cfg.Client("otelcol-sealos/" + s.set.ID.String())
	}
	return err
}

// Lead runs the Secret (and preflight) informers for one leadership term.
func (s *databaseSource) Lead(ctx context.Context, term statereceiver.Term) {
	if s.client == nil {
		term.Ready() // configured targets only: nothing to list
		return
	}
	s.watch.run(ctx, term, s.client, s.cfg.Namespaces, s.cfg.Preflight)
}

func (*databaseSource) Shutdown(context.Context) error { return nil }

// result is one database's check.
type result struct {
	t         target
	errorType string
	took      time.Duration
}

func (s *databaseSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	targets, discoveryErr := s.targets(ctx)
	results := s.checkAll(ctx, targets)
	ts := pcommon.NewTimestampFromTime(time.Now())
	s.record(ts, results)
	return s.mb.Emit(), discoveryErr
}

// targets is this cycle's databases: configured targets and discovered ones, one per
// namespace/database/engine (configured targets win), sorted.
func (s *databaseSource) targets(ctx context.Context) ([]target, error) {
	all := slices.Clone(s.static)
	var err error
	if s.client != nil {
		var secrets []*corev1.Secret
		secrets, err = s.watch.secrets(ctx, s.cfg.SyncTimeout)
		for _, sec := range secrets {
			t, ok, terr := targetFromSecret(sec, s.cfg.Accounts)
			if !ok {
				continue
			}
			t.err = terr
			all = append(all, t)
		}
	}
	seen := make(map[string]bool, len(all))
	out := all[:0]
	for _, t := range all {
		if !seen[t.key()] {
			seen[t.key()] = true
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b target) int { return strings.Compare(a.key(), b.key()) })
	return out, err
}

// checkAll runs every check with at most concurrency::<engine> workers per engine (engines do not
// wait for each other), and returns when all are done.
func (s *databaseSource) checkAll(ctx context.Context, targets []target) []result {
	results := make([]result, len(targets))
	byEngine := map[string][]int{}
	for i, t := range targets {
		byEngine[t.engine] = append(byEngine[t.engine], i)
	}
	var wg sync.WaitGroup
	for engine, indexes := range byEngine {
		work := make(chan int, len(indexes))
		for _, i := range indexes {
			work <- i
		}
		close(work)
		for range min(s.cfg.Concurrency.of(engine), len(indexes)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					results[i] = s.checkOne(ctx, targets[i])
				}
			}()
		}
	}
	wg.Wait()
	return results
}

func (s *databaseSource) checkOne(ctx context.Context, t target) result {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	errorType := s.run(ctx, t)
	return result{t: t, errorType: errorType, took: time.Since(began)}
}

func (s *databaseSource) run(ctx context.Context, t target) string {
	if t.err != nil {
		s.set.Logger.Warn("database secret unusable", zap.String("database", t.key()), zap.Error(t.err))
		return errUnknown
	}
	if s.cfg.Preflight && s.client != nil {
		if et := s.watch.preflight(t); et != errNone {
			return et
		}
	}
	tlsConfig, err := s.tlsConf.forTarget(t)
	if err != nil {
		s.set.Logger.Warn("database TLS settings unusable", zap.String("database", t.key()), zap.Error(err))
		return errTLS
	}
	err = s.check[t.engine](ctx, t, tlsConfig, s.cfg.CheckTimeout+driverSlack)
	et := classify(ctx, err)
	if err != nil {
		// Driver errors name the user and address, never the password.
		s.set.Logger.Debug("database check failed", zap.String("database", t.key()), zap.String("error_type", et), zap.String("error", redact.Text(err.Error(), t.password)))
	}
	return et
}

// totals counts checked databases for one type attribute value.
type totals struct{ total, available int64 }

func (s *databaseSource) record(ts pcommon.Timestamp, results []result) {
	byType := map[string]*totals{"all": {}}
	for _, r := range results {
		up := int64(0)
		if r.errorType == errNone {
			up = 1
		}
		s.mb.RecordDatabaseConnectivityDataPoint(ts, up, r.t.namespace, r.t.database, r.t.engine, r.errorType)
		s.mb.RecordDatabaseResponseTimeDataPoint(ts, r.took.Seconds(), r.t.namespace, r.t.database, r.t.engine)
		for _, key := range []string{r.t.engine, "all"} {
			if byType[key] == nil {
				byType[key] = &totals{}
			}
			byType[key].total++
			byType[key].available += up
		}
	}
	for typ, n := range byType {
		s.mb.RecordDatabaseTotalDataPoint(ts, n.total, typ)
		s.mb.RecordDatabaseAvailableDataPoint(ts, n.available, typ)
		s.mb.RecordDatabaseUnavailableDataPoint(ts, n.total-n.available, typ)
	}
}

// staticTargets turns the configured targets into targets, loading their TLS settings once.
func staticTargets(ctx context.Context, cfgs []TargetConfig) ([]target, error) {
	out := make([]target, 0, len(cfgs))
	var errs []error
	for i, c := range cfgs {
		t := target{namespace: c.Namespace, database: c.Name, engine: c.Engine, username: c.Username, password: string(c.Password), dbName: c.Database}
		host, port, err := splitEndpoint(c.Endpoint)
		if err != nil {
			errs = append(errs, fmt.Errorf("targets[%d].endpoint: %w", i, err))
			continue
		}
		t.host, t.port = host, port
		if c.TLS != nil {
			tc, err := c.TLS.LoadTLSConfig(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("targets[%d].tls: %w", i, err))
				continue
			}
			if tc != nil {
				if tc.ServerName == "" {
					tc.ServerName = host
				}
				t.tls, t.tlsConfig = true, tc
			}
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}
