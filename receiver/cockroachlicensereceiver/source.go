package cockroachlicensereceiver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"

	"github.com/labring/otelcol-sealos/internal/redact"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/cockroachlicensereceiver/internal/metadata"
)

// licenseQuery is what the predecessor asked; CockroachDB answers one STRING row.
const licenseQuery = "SHOW CLUSTER SETTING enterprise.license"

// licenseSource reads every cluster's license once per cycle, over a connection opened for it.
type licenseSource struct {
	cfg    *Config
	set    receiver.Settings
	mb     *metadata.MetricsBuilder
	now    func() time.Time
	client kubernetes.Interface // only with dsn_secret
}

// result is what one cycle learnt about one cluster: a license (nil: none installed) or why not.
type result struct {
	license *license
	err     error
	at      time.Time
}

func newLicenseSource(cfg *Config, set receiver.Settings) *licenseSource {
	return &licenseSource{cfg: cfg, set: set, mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set), now: time.Now}
}

// Start contacts nothing: a cluster or API server that is down is a failed cycle, not a failed start.
func (s *licenseSource) Start(context.Context, component.Host) error {
	if !s.cfg.usesSecrets() {
		return nil
	}
	client, _, err := s.cfg.Client("otelcol-sealos/" + s.set.ID.String())
	s.client = client
	return err
}

// Lead has nothing to wait for: every read happens within Collect.
func (*licenseSource) Lead(ctx context.Context, term statereceiver.Term) {
	term.Ready()
	<-ctx.Done()
}

func (*licenseSource) Shutdown(context.Context) error { return nil }

// Collect reads every cluster's license, at most max_concurrent_checks at a time. A cluster that
// could not be read has only its last_scrape_timestamp this cycle (its license is unknown, not
// absent) and fails the cycle, naming the cluster.
func (s *licenseSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	results := make([]result, len(s.cfg.Clusters))
	var g errgroup.Group
	g.SetLimit(s.cfg.MaxConcurrentChecks)
	for i := range s.cfg.Clusters {
		g.Go(func() error {
			results[i] = s.read(ctx, &s.cfg.Clusters[i])
			return nil
		})
	}
	_ = g.Wait()

	var errs []error
	for i := range s.cfg.Clusters {
		name, r := s.cfg.Clusters[i].Name, &results[i]
		ts := pcommon.NewTimestampFromTime(r.at)
		s.mb.RecordCockroachLicenseLastScrapeTimestampDataPoint(ts, r.at.Unix(), name)
		switch l := r.license; {
		case r.err != nil:
			errs = append(errs, fmt.Errorf("cluster %q: %w", name, r.err))
		case l == nil:
			s.mb.RecordCockroachLicenseUpDataPoint(ts, 0, name)
			s.mb.RecordCockroachLicenseInfoDataPoint(ts, 0, name, "", "", "", "", "")
		default:
			until := time.Unix(l.validUntil, 0).Sub(r.at).Seconds()
			up := int64(0)
			if until > 0 {
				up = 1
			}
			s.mb.RecordCockroachLicenseUpDataPoint(ts, up, name)
			s.mb.RecordCockroachLicenseInfoDataPoint(ts, 1, name, typeName(l.typ), environmentName(l.environment), l.licenseID, l.organizationID, l.organizationName)
			s.mb.RecordCockroachLicenseTypeDataPoint(ts, typeCode(l.typ), name, typeName(l.typ))
			s.mb.RecordCockroachLicenseExpiryTimestampDataPoint(ts, l.validUntil, name)
			s.mb.RecordCockroachLicenseSecondsUntilExpiryDataPoint(ts, until, name)
		}
	}
	return s.mb.Emit(), errors.Join(errs...)
}

// read connects to one cluster, asks for the license setting and decodes it, all within
// check_timeout. Errors never carry the DSN, its password or the license.
func (s *licenseSource) read(ctx context.Context, cl *Cluster) result {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	dsn, source := string(cl.DSN), "dsn"
	if ref := cl.DSNSecret; ref != nil {
		var err error
		if dsn, err = ref.Read(ctx, s.client); err != nil {
			return result{err: fmt.Errorf("dsn_secret: %w", err), at: s.now()}
		}
		source = "dsn_secret (" + ref.String() + ")"
	}
	value, err := s.query(ctx, dsn, source)
	at := s.now()
	if err != nil {
		return result{err: err, at: at}
	}
	l, err := decodeLicense(value)
	if err != nil {
		return result{err: fmt.Errorf("enterprise.license: %w", err), at: at}
	}
	return result{license: l, at: at}
}

func (s *licenseSource) query(ctx context.Context, dsn, source string) (string, error) {
	pgcfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("%s: %w", source, errUnparsableDSN)
	}
	secrets := []string{dsn, pgcfg.Password}
	pgcfg.ConnectTimeout = s.cfg.CheckTimeout
	target := pgcfg.Host + ":" + strconv.Itoa(int(pgcfg.Port))
	conn, err := pgx.ConnectConfig(ctx, pgcfg)
	if err != nil {
		return "", redact.Error(fmt.Errorf("connecting to %s: %w", target, err), secrets...)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	// The simple protocol: one round trip, nothing prepared on the cluster.
	var value string
	if err := conn.QueryRow(ctx, licenseQuery, pgx.QueryExecModeSimpleProtocol).Scan(&value); err != nil {
		return "", redact.Error(fmt.Errorf("%s on %s: %w", licenseQuery, target, err), secrets...)
	}
	return value, nil
}
