// Package statereceiver is the lifecycle every otelcol-sealos receiver shares: a scraperhelper
// controller that, each collection_interval, asks the receiver's Source for its metrics (only while
// this replica leads, when leader-gated) and appends the framework self-metrics.
package statereceiver

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/labring/otelcol-sealos/internal/gatestatus"
	"github.com/labring/otelcol-sealos/internal/leadergate"
)

// Source is the part each receiver writes.
type Source interface {
	// Start does one-time setup (clients, validation against the environment). An error stops the
	// collector from starting, so return one only for problems a restart will not fix.
	Start(ctx context.Context, host component.Host) error
	// Lead runs while this replica leads (always, without an elector): start informers here and
	// return once ctx is done.
	Lead(ctx context.Context)
	// Collect returns this cycle's metrics. With an error, whatever metrics it returns are still
	// emitted and the cycle counts as failed.
	Collect(ctx context.Context) (pmetric.Metrics, error)
	Shutdown(ctx context.Context) error
}

// Options are the shared settings a receiver's config carries.
type Options struct {
	Controller *scraperhelper.ControllerConfig
	// Elector is the k8s_leader_elector config key; nil means not gated.
	Elector *component.ID
}

// NewMetrics builds the receiver around src.
func NewMetrics(set receiver.Settings, opts Options, next consumer.Metrics, src Source) (receiver.Metrics, error) {
	r := &stateReceiver{
		src:       src,
		elector:   opts.Elector,
		id:        set.ID,
		collector: set.ID.String(),
	}
	r.gate = leadergate.New(src.Lead)
	s, err := scraper.NewMetrics(r.scrape, scraper.WithStart(r.start), scraper.WithShutdown(r.shutdown))
	if err != nil {
		return nil, err
	}
	controller, err := scraperhelper.NewMetricsController(opts.Controller, set, next, scraperhelper.AddMetricsScraper(set.ID.Type(), s))
	if err != nil {
		return nil, err
	}
	return &onceShutdown{Metrics: controller}, nil
}

// onceShutdown makes Shutdown idempotent: the scraperhelper controller panics on a second call.
type onceShutdown struct {
	receiver.Metrics
	once sync.Once
	err  error
}

func (o *onceShutdown) Shutdown(ctx context.Context) error {
	o.once.Do(func() { o.err = o.Metrics.Shutdown(ctx) })
	return o.err
}

type stateReceiver struct {
	src       Source
	elector   *component.ID
	gate      *leadergate.Gate
	id        component.ID
	collector string
	// lastSuccess is only touched by scrape; the controller never overlaps cycles.
	lastSuccess time.Time

	// For the status extension: the host to report component status to, the last reported
	// cycle outcome (reported on change only), and the gate's registration.
	host       component.Host
	reported   bool
	lastReport string
	unregister func()
}

func (r *stateReceiver) start(ctx context.Context, host component.Host) error {
	// A missing elector is a config mistake: report it before trying any outside system.
	elector, err := leadergate.Find(host, r.elector)
	if err != nil {
		return err
	}
	if err := r.src.Start(ctx, host); err != nil {
		return err
	}
	r.gate.Run(elector)
	r.host = host
	if r.elector != nil {
		r.unregister = gatestatus.Register(r.id, gatestatus.Gate{Elector: *r.elector, Leading: r.gate.Leading})
	}
	return nil
}

func (r *stateReceiver) shutdown(ctx context.Context) error {
	if r.unregister != nil {
		r.unregister()
	}
	r.gate.Shutdown()
	return r.src.Shutdown(ctx)
}

// reportCycle tells status watchers (the status extension) how the last cycle went: StatusOK
// after a successful one, StatusRecoverableError with the error after a failed one; only changes.
func (r *stateReceiver) reportCycle(err error) {
	if r.host == nil {
		return
	}
	report := ""
	if err != nil {
		report = err.Error()
	}
	if r.reported && r.lastReport == report {
		return
	}
	r.reported, r.lastReport = true, report
	if err != nil {
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
		return
	}
	componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
}

func (r *stateReceiver) scrape(ctx context.Context) (pmetric.Metrics, error) {
	if !r.gate.Leading() {
		return pmetric.NewMetrics(), nil
	}
	began := time.Now()
	md, err := r.src.Collect(ctx)
	ended := time.Now()
	if md == (pmetric.Metrics{}) {
		md = pmetric.NewMetrics()
	}
	r.reportCycle(err)
	if err == nil {
		r.lastSuccess = ended
	}
	appendSelfMetrics(md, cycle{collector: r.collector, at: ended, took: ended.Sub(began), ok: err == nil, lastSuccess: r.lastSuccess})
	if err != nil {
		// A partial-scrape error keeps md (with success=0) flowing; the controller logs err.
		return md, scrapererror.NewPartialScrapeError(err, 0)
	}
	return md, nil
}
