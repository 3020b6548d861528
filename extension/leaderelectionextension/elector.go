package leaderelectionextension

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/labring/otelcol-sealos/internal/leadergate"
)

type callbacks struct {
	start func(context.Context)
	stop  func()
}

// elector campaigns for one Lease for as long as it runs, re-campaigning after every loss.
type elector struct {
	cfg      *Config
	id       component.ID
	logger   *zap.Logger
	identity string
	lease    string // lease name, resolved at Start

	mu       sync.Mutex
	regs     []callbacks
	leading  bool
	term     context.Context // the current leadership term's ctx, while leading
	holder   string
	shutdown bool
	nudge    context.CancelFunc            // ends the current campaign early (see onLease)
	le       *leaderelection.LeaderElector // the current campaign's, for LeaseValid

	cancel    context.CancelFunc
	done      chan struct{}
	unclaim   func()
	stopWatch func()
}

var (
	_ extension.Extension   = (*elector)(nil)
	_ leadergate.Observable = (*elector)(nil)
)

func newElector(cfg *Config, set extension.Settings, identity string) *elector {
	return &elector{cfg: cfg, id: set.ID, logger: set.Logger, identity: identity}
}

// SetCallBackFuncs registers a receiver, the k8s_leader_elector contract: onStartedLeading runs
// when this replica starts leading (at once if it already leads), with a ctx that ends with the
// term; onStoppedLeading when it stops. Both run under the elector's lock: they must not block
// or call back into the elector. Registration before Start is fine.
func (e *elector) SetCallBackFuncs(onStartedLeading func(context.Context), onStoppedLeading func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shutdown {
		return
	}
	e.regs = append(e.regs, callbacks{start: onStartedLeading, stop: onStoppedLeading})
	if e.leading {
		onStartedLeading(e.term)
	}
}

func (e *elector) Lease() string    { return e.cfg.LeaseNamespace + "/" + e.leaseName() }
func (e *elector) Identity() string { return e.identity }

func (e *elector) Holder() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.holder
}

func (e *elector) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

// LeaseValid (leadergate.LeaseChecker) is false unless this process leads, the Lease shows no
// other holder, and its last successful renewal is less than lease_duration ago by its own clock:
// after a freeze (SIGSTOP, a stalled node) client-go still reports leading until a renewal fails.
func (e *elector) LeaseValid() bool {
	e.mu.Lock()
	leading, le, holder := e.leading, e.le, e.holder
	e.mu.Unlock()
	return leading && le != nil && holder == e.identity && le.Check(0) == nil
}

func (e *elector) leaseName() string {
	if e.cfg.LeaseName != "" {
		return e.cfg.LeaseName
	}
	return defaultLeaseName(e.id)
}

func (e *elector) Start(_ context.Context, _ component.Host) error {
	e.lease = e.leaseName()
	unclaim, err := claimLease(e.Lease(), e.identity, e.id)
	if err != nil {
		return err
	}
	rc, err := e.cfg.RestConfig("otelcol-sealos/" + e.id.String())
	if err != nil {
		unclaim()
		return err
	}
	// The watch needs a client without a Timeout: net/http would cut the stream at every deadline.
	watchConfig := rest.CopyConfig(rc)
	watchConfig.Timeout = 0
	watchClient, err := kubernetes.NewForConfig(watchConfig)
	if err != nil {
		unclaim()
		return fmt.Errorf("kubernetes client for %s: %w", rc.Host, err)
	}
	// Bounds every lease request, the release on Shutdown included.
	rc.Timeout = e.cfg.RenewDeadline
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		unclaim()
		return fmt.Errorf("kubernetes client for %s: %w", rc.Host, err)
	}
	lec, err := e.electionConfig(client)
	if err != nil {
		unclaim()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done, e.unclaim = cancel, make(chan struct{}), unclaim
	e.stopWatch = watchLease(ctx, watchClient, e.cfg.LeaseNamespace, e.lease, e.onLease, e.logger)
	go e.campaign(ctx, lec)
	e.logger.Info("Campaigning for the lease", zap.String("lease", e.Lease()), zap.String("identity", e.identity))
	return nil
}

func (e *elector) electionConfig(client kubernetes.Interface) (leaderelection.LeaderElectionConfig, error) {
	lec := leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1ObjectMeta(e.cfg.LeaseNamespace, e.lease),
			Client:     client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: e.identity},
		},
		LeaseDuration: e.cfg.LeaseDuration,
		RenewDeadline: e.cfg.RenewDeadline,
		RetryPeriod:   e.cfg.RetryPeriod,
		// Hand over at once on shutdown instead of leaving followers to wait out the lease.
		ReleaseOnCancel: true,
		Name:            e.Lease(),
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: e.startedLeading,
			OnStoppedLeading: e.stoppedLeading,
			OnNewLeader:      e.setHolder,
		},
	}
	// Validates the durations once, so campaign never meets an error.
	if _, err := leaderelection.NewLeaderElector(lec); err != nil {
		return lec, fmt.Errorf("leader election for lease %s: %w", e.Lease(), err)
	}
	return lec, nil
}

// campaign runs client-go's elector until ctx ends. client-go returns after losing the lease and
// never campaigns again by itself, so this loops: one Run per campaign.
func (e *elector) campaign(ctx context.Context, lec leaderelection.LeaderElectionConfig) {
	defer close(e.done)
	for {
		runCtx, nudge := context.WithCancel(ctx)
		e.mu.Lock()
		e.nudge = nudge
		e.mu.Unlock()
		le, _ := leaderelection.NewLeaderElector(lec) // validated in Start
		e.mu.Lock()
		e.le = le
		e.mu.Unlock()
		le.Run(runCtx)
		nudged := runCtx.Err() != nil
		nudge()
		if ctx.Err() != nil {
			return
		}
		pause := e.cfg.RetryPeriod // lost the lease: try again like any follower
		if nudged {
			pause = e.handoverGrace()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

// handoverGrace is how long a follower waits after seeing the lease released before it campaigns:
// long enough for the releasing process, when it is reloading its config rather than exiting,
// to take its own lease back first (a reload takes well under a second).
func (e *elector) handoverGrace() time.Duration { return e.cfg.RetryPeriod / 2 }

// onLease sees every change of the Lease object. When a holder just released it, a follower stops waiting for its next jittered retry (up to 2.2 × retry_period away) and
// campaigns after handoverGrace: this is what makes a graceful failover take about a second.
// A leader that sees another holder here is no longer LeaseValid at once (client-go notices only
// at its next failed renewal); it is not nudged, since ending client-go's run releases the lease,
// which by then is another replica's.
func (e *elector) onLease(holder string, released bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.holder = holder
	if released && !e.leading && e.nudge != nil {
		e.nudge()
	}
}

func (e *elector) setHolder(holder string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.holder = holder
}

func (e *elector) startedLeading(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// client-go starts this in a goroutine: the term may already be over.
	if e.shutdown || ctx.Err() != nil || e.leading {
		return
	}
	e.leading, e.term, e.holder = true, ctx, e.identity
	e.logger.Info("Started leading", zap.String("lease", e.Lease()), zap.String("identity", e.identity))
	for _, r := range e.regs {
		r.start(ctx)
	}
}

// stoppedLeading tells receivers only about real transitions (client-go also calls it after a
// campaign that never won).
func (e *elector) stoppedLeading() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopLocked()
}

func (e *elector) stopLocked() {
	if !e.leading {
		return
	}
	e.leading, e.term = false, nil
	e.logger.Info("Stopped leading", zap.String("lease", e.Lease()), zap.String("identity", e.identity))
	for _, r := range e.regs {
		r.stop()
	}
}

// Shutdown stops receivers' leader work first, then releases the lease (ReleaseOnCancel) so a
// follower, or this process after a reload, takes it at once. Safe without Start, idempotent.
func (e *elector) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.shutdown {
		e.mu.Unlock()
		return nil
	}
	e.shutdown = true
	e.stopLocked()
	e.regs = nil
	e.mu.Unlock()
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	defer e.unclaim()
	defer e.stopWatch()
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return errors.Join(fmt.Errorf("lease %s: release did not finish", e.Lease()), ctx.Err())
	}
}
