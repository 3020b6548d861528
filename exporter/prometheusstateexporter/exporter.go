package prometheusstateexporter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	prometheustranslator "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheus"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
)

// Why a data point was not exported (label of the dropped-points self-metric).
const (
	reasonUnsupportedType = iota // exponential histograms
	reasonTemporality            // unspecified temporality, non-monotonic delta sums
	reasonInvalidName            // metric name translates to nothing
	reasonInvalidLabels          // reserved, duplicate or invalid label names/values
	reasonTypeConflict           // same Prometheus name, other type
	reasonMisaligned             // delta histogram point overlapping the previous one
	reasonCount
)

var reasonNames = [reasonCount]string{"unsupported_type", "temporality", "invalid_name", "invalid_labels", "type_conflict", "misaligned_delta"}

// maxLoggedDrops bounds the "log once" memory.
const maxLoggedDrops = 1000

type stateExporter struct {
	cfg         *Config
	logger      *zap.Logger
	settings    component.TelemetrySettings
	namer       *namer
	constLabels []labelPair
	store       *store

	targetInfoName string
	targetMu       sync.Mutex
	targetKeys     map[string]string // job+instance → current target_info label set

	duplicates atomic.Uint64
	dropped    [reasonCount]atomic.Uint64
	loggedMu   sync.Mutex
	logged     map[string]struct{}

	gzipMu  sync.Mutex
	gzipGen uint64
	gzipBuf []byte

	server   *http.Server
	stop     chan struct{}
	stopped  sync.WaitGroup
	shutOnce sync.Once
}

func newStateExporter(cfg *Config, set component.TelemetrySettings) *stateExporter {
	n := newNamer(cfg)
	e := &stateExporter{
		cfg:        cfg,
		logger:     set.Logger,
		settings:   set,
		namer:      n,
		store:      newStore(),
		targetKeys: map[string]string{},
		logged:     map[string]struct{}{},
	}
	for k, v := range cfg.ConstLabels {
		e.constLabels = append(e.constLabels, labelPair{k, v})
	}
	slices.SortFunc(e.constLabels, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	e.targetInfoName = prometheustranslator.TargetInfoMetricName
	if ns := n.namespace(cfg.Namespace); ns != "" {
		e.targetInfoName = ns + "_" + e.targetInfoName
	}
	return e
}

// consume is the exporter's ConsumeMetrics.
func (e *stateExporter) consume(_ context.Context, md pmetric.Metrics) error {
	now := time.Now().UnixNano()
	for _, rm := range md.ResourceMetrics().All() {
		e.ingestResource(rm, now)
	}
	return nil
}

// drop counts data points not exported and logs the first occurrence per reason and metric.
func (e *stateExporter) drop(reason int, metric string, points int, err error) {
	e.dropped[reason].Add(uint64(points))
	e.store.changed()
	key := reasonNames[reason] + "/" + metric
	e.loggedMu.Lock()
	_, seen := e.logged[key]
	if !seen && len(e.logged) < maxLoggedDrops {
		e.logged[key] = struct{}{}
	}
	e.loggedMu.Unlock()
	if !seen {
		fields := []zap.Field{zap.String("metric", metric), zap.String("reason", reasonNames[reason]), zap.Int("points", points)}
		if err != nil {
			fields = append(fields, zap.Error(err))
		}
		e.logger.Warn("prometheus_state: data points not exported (logged once per metric and reason, counted in prometheus_state_exporter_dropped_points_total)", fields...)
	}
}

// updateTargetInfo keeps one target_info series per job+instance, as contrib emits it for
// resources that have both service.name and service.instance.id.
func (e *stateExporter) updateTargetInfo(res pcommon.Map, now int64) {
	job, _ := extractJob(res)
	inst, _ := extractInstance(res)
	if job == "" || inst == "" {
		return
	}
	labels, err := e.namer.targetInfoLabels(res)
	if err != nil {
		e.drop(reasonInvalidLabels, e.targetInfoName, 1, err)
		return
	}
	key := string(appendLabels(nil, labels))
	sig := job + "\xff" + inst
	// Lock order: targetMu, then the store, then the family (as expire).
	e.targetMu.Lock()
	defer e.targetMu.Unlock()
	f, ok := e.store.lockFamily(e.targetInfoName, "gauge", "Target metadata")
	if !ok {
		e.drop(reasonTypeConflict, e.targetInfoName, 1, nil)
		return
	}
	defer f.mu.Unlock()
	if old, ok := e.targetKeys[sig]; ok && old != key {
		f.delete(old)
	}
	e.targetKeys[sig] = key
	s := f.series[key]
	body := sampleWriter{name: f.name, labels: []byte(key)}.line(nil, "", "", 0, 1)
	if s != nil {
		body = s.body // same labels, the value is always 1
	}
	f.put(s, key, body, 0, now)
}

func (e *stateExporter) start(ctx context.Context, host component.Host) error {
	ln, err := e.cfg.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("prometheus_state: listen on %s: %w", e.cfg.NetAddr.Endpoint, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", http.HandlerFunc(e.serveMetrics))
	srv, err := e.cfg.ToServer(ctx, host.GetExtensions(), e.settings, mux)
	if err != nil {
		return errors.Join(err, ln.Close())
	}
	e.server = srv
	e.stop = make(chan struct{})
	e.stopped.Add(2)
	go func() {
		defer e.stopped.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("prometheus_state: server stopped", zap.Error(err))
		}
	}()
	// Expire series even when nobody scrapes, so memory stays bounded.
	go func() {
		defer e.stopped.Done()
		t := time.NewTicker(e.cfg.MetricExpiration)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				e.expire()
			case <-e.stop:
				return
			}
		}
	}()
	return nil
}

func (e *stateExporter) expire() {
	e.store.expire(time.Now().Add(-e.cfg.MetricExpiration).UnixNano())
	e.targetMu.Lock()
	defer e.targetMu.Unlock()
	// Forget target_info keys whose series expired.
	e.store.mu.RLock()
	f := e.store.families[e.targetInfoName]
	e.store.mu.RUnlock()
	if f == nil {
		clear(e.targetKeys)
		return
	}
	f.mu.Lock()
	for sig, key := range e.targetKeys {
		if _, ok := f.series[key]; !ok {
			delete(e.targetKeys, sig)
		}
	}
	f.mu.Unlock()
}

func (e *stateExporter) shutdown(ctx context.Context) error {
	var err error
	e.shutOnce.Do(func() {
		if e.server == nil {
			return
		}
		close(e.stop)
		err = e.server.Shutdown(ctx)
		e.stopped.Wait()
	})
	return err
}
