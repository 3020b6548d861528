package statereceiver

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
)

// markerTimeout bounds delivering a term's end-of-term markers (the pipeline may be stuck).
const markerTimeout = 10 * time.Second

// term runs one leadership term (the whole run without an elector): the source's Lead and the
// cycles, until ctx ends. The gate starts the next term only after this one returned.
func (r *stateReceiver) term(ctx context.Context) {
	t := &term{ctx: ctx, ready: make(chan struct{}, 1), status: &r.status}
	// The term's series are marked stale the moment it ends, not after a slow cycle returns. On
	// shutdown nothing is marked: the process's series end with it and a successor continues them.
	ended := make(chan struct{})
	context.AfterFunc(ctx, func() {
		defer close(ended)
		t.end()
		if !r.closing.Load() {
			r.markAllStale()
		}
	})
	var lead sync.WaitGroup
	lead.Go(func() { r.src.Lead(ctx, t) })
	r.cycles(ctx, t)
	lead.Wait()
	<-ended // cycles returns only once ctx is done, so the AfterFunc has run or is running
}

// cycles runs a cycle at the term's Ready and then every collection_interval, never before
// initial_delay has passed since Start, until ctx ends.
func (r *stateReceiver) cycles(ctx context.Context, t *term) {
	ticker := time.NewTicker(r.cfg.CollectionInterval)
	defer ticker.Stop()
	if hold := time.Until(r.startedAt.Add(r.cfg.InitialDelay)); hold > 0 {
		wait := time.NewTimer(hold)
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-t.ready:
			ticker.Reset(r.cfg.CollectionInterval) // the regular cycles follow the first full one
		}
		r.cycle(ctx)
	}
}

// cycle collects once and emits the result, unless the term ended meanwhile.
func (r *stateReceiver) cycle(ctx context.Context) {
	cycleCtx := ctx
	if r.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		cycleCtx, cancel = context.WithTimeout(ctx, r.cfg.Timeout)
		defer cancel()
	}
	began := time.Now()
	md, err := r.src.Collect(cycleCtx)
	ended := time.Now()
	if ctx.Err() != nil {
		return // the lease moved or the receiver is shutting down: this cycle never emits
	}
	if md == (pmetric.Metrics{}) {
		md = pmetric.NewMetrics()
	}
	if err == nil {
		r.lastSuccess = ended
	}
	if r.status.cycle(err) && err != nil {
		r.set.Logger.Warn("collection cycle failed; its partial metrics are emitted with success 0", zap.Error(err))
	}
	appendSelfMetrics(md, cycleInfo{collector: r.collector, at: ended, took: ended.Sub(began), ok: err == nil, lastSuccess: r.lastSuccess})
	r.emit(ctx, md, pcommon.NewTimestampFromTime(ended))
}

// emit sends md preceded by staleness markers for the series the previous cycle had and md lacks.
func (r *stateReceiver) emit(ctx context.Context, md pmetric.Metrics, ts pcommon.Timestamp) {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	if ctx.Err() != nil {
		return // the term ended while this cycle waited for the lock
	}
	if r.leaseValid != nil && !r.leaseValid() {
		// The lease expired under us (the process was frozen) or another replica holds it, and the
		// elector has not ended the term yet: emit nothing of this cycle, and take back what the
		// term emitted, since another leader reports it now.
		if markers := r.stale.update(pmetric.NewMetrics(), ts); markers.ResourceMetrics().Len() > 0 {
			r.set.Logger.Warn("the lease is no longer valid: this replica's series are marked stale until the elector settles")
			r.consume(ctx, markers)
		}
		return
	}
	out := r.stale.update(md, ts)
	md.ResourceMetrics().MoveAndAppendTo(out.ResourceMetrics())
	r.consume(ctx, out)
}

// markAllStale sends markers for every series the ended term emitted and forgets them.
func (r *stateReceiver) markAllStale() {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	markers := r.stale.update(pmetric.NewMetrics(), pcommon.NewTimestampFromTime(time.Now()))
	if markers.ResourceMetrics().Len() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), markerTimeout)
	defer cancel()
	r.consume(ctx, markers)
}

func (r *stateReceiver) consume(ctx context.Context, md pmetric.Metrics) {
	points := md.DataPointCount()
	ctx = r.obs.StartMetricsOp(ctx)
	err := r.next.ConsumeMetrics(ctx, md)
	r.obs.EndMetricsOp(ctx, "", points, err)
	if err != nil {
		r.set.Logger.Warn("the pipeline refused a cycle's metrics", zap.Int("data_points", points), zap.Error(err))
	}
}

// term is the Term handed to Source.Lead.
type term struct {
	ctx       context.Context
	readyOnce sync.Once
	ready     chan struct{}
	status    *statusReporter

	mu   sync.Mutex
	over bool
	keys map[string]bool // problems this term reported, cleared when it ends
}

func (t *term) Ready() {
	t.readyOnce.Do(func() { t.ready <- struct{}{} })
}

func (t *term) Report(key string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.over || t.ctx.Err() != nil {
		return
	}
	if t.keys == nil {
		t.keys = map[string]bool{}
	}
	t.keys[key] = true
	t.status.problem(key, err)
}

// end clears the term's problems and ignores its later reports.
func (t *term) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.over = true
	for key := range t.keys {
		t.status.problem(key, nil)
	}
	t.status.cycle(nil)
}
