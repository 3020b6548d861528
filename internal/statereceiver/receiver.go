// Package statereceiver is the lifecycle every otelcol-sealos receiver shares. Each cycle asks the
// receiver's Source for the whole truth about its objects (only while this replica leads, when
// leader-gated), appends the self-metrics, and marks every series the previous cycle had and this
// one lacks as stale, so a series vanishes downstream as soon as the state stops producing it.
package statereceiver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/labring/otelcol-sealos/internal/gatestatus"
	"github.com/labring/otelcol-sealos/internal/leadergate"
)

// Source is the part each receiver writes.
type Source interface {
	// Start does one-time setup (clients, files). An error stops the collector, so return one only
	// for what a restart cannot fix (a bad kubeconfig, an unreadable CA file); an unreachable API
	// server or database is a failed cycle or a Term report, never a Start error.
	Start(ctx context.Context, host component.Host) error
	// Lead runs for one leadership term (the whole run, without an elector): start informers
	// here, call term.Ready once their first list is in, and return once ctx is done.
	Lead(ctx context.Context, term Term)
	// Collect returns this cycle's metrics: every series the source's state has now, nothing from
	// before. With an error, whatever it returns is still emitted and the cycle counts as failed.
	// It must return soon after ctx is done (lease lost, shutdown, the cycle's timeout).
	Collect(ctx context.Context) (pmetric.Metrics, error)
	Shutdown(ctx context.Context) error
}

// Term is what a Source tells the framework during a leadership term. Calls after the term ended
// are ignored.
type Term interface {
	// Ready says the state is known (the informers' first list is in): a cycle runs at once
	// instead of at the next tick. Sources with nothing to wait for call it when Lead begins.
	Ready()
	// Report sets (err != nil) or clears (nil) a named problem, shown in the component status
	// (and the status extension's /status) until cleared or the term ends.
	Report(key string, err error)
}

// NewMetrics builds the receiver around src.
func NewMetrics(set receiver.Settings, cfg *Config, next consumer.Metrics, src Source) (receiver.Metrics, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, ReceiverCreateSettings: set})
	if err != nil {
		return nil, err
	}
	r := &stateReceiver{
		cfg:       *cfg,
		src:       src,
		set:       set,
		next:      next,
		obs:       obs,
		collector: set.ID.String(),
		stale:     newTracker(),
	}
	r.gate = leadergate.New(r.term)
	return r, nil
}

type stateReceiver struct {
	cfg       Config
	src       Source
	set       receiver.Settings
	next      consumer.Metrics
	obs       *receiverhelper.ObsReport
	collector string
	gate      *leadergate.Gate
	status    statusReporter
	// leaseValid, when the elector can tell, says whether the lease is still unexpired.
	leaseValid func() bool

	// emitMu orders what reaches next: a cycle's output and the markers of a term's end never
	// interleave, and a cycle whose term ended in the meantime is dropped under it.
	emitMu sync.Mutex
	stale  *tracker

	closing     atomic.Bool // Shutdown began: a term's end emits no markers
	startedAt   time.Time   // no cycle before startedAt + initial_delay
	lastSuccess time.Time   // only touched by the cycle loop; terms never overlap

	shutdownOnce sync.Once
	unregister   func()
}

func (r *stateReceiver) Start(ctx context.Context, host component.Host) error {
	// A missing elector is a config mistake: report it before trying any outside system.
	elector, err := leadergate.Find(host, r.cfg.K8sLeaderElector)
	if err != nil {
		return err
	}
	if err := r.src.Start(ctx, host); err != nil {
		return err
	}
	r.status.host = host
	r.startedAt = time.Now()
	if lc, ok := elector.(leadergate.LeaseChecker); ok {
		r.leaseValid = lc.LeaseValid
	}
	if id := r.cfg.K8sLeaderElector; id != nil {
		r.unregister = gatestatus.Register(r.set.ID, gatestatus.Gate{Elector: *id, Leading: r.gate.Leading})
	}
	r.gate.Run(elector)
	return nil
}

// Shutdown cancels a running cycle, ends the term and shuts the source down. It is idempotent and
// safe without Start.
func (r *stateReceiver) Shutdown(ctx context.Context) error {
	var err error
	r.shutdownOnce.Do(func() {
		r.closing.Store(true)
		r.status.stop()
		if r.unregister != nil {
			r.unregister()
		}
		r.gate.Shutdown()
		err = r.src.Shutdown(ctx)
	})
	return err
}
