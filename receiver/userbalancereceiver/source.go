package userbalancereceiver

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"

	"github.com/labring/otelcol-sealos/internal/redact"
	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/userbalancereceiver/internal/metadata"
)

// balanceQuery reads what the predecessor read, for every configured user at once: the "User" row
// whose id is the configured uid, left-joined with its "Account" row. NULLs are kept (no COALESCE)
// so that a missing balance is told apart from a zero one.
const balanceQuery = `SELECT u.id, a.balance, a.deduction_balance
FROM "User" u LEFT JOIN "Account" a ON u.uid = a."userUid"
WHERE u.id = ANY($1)`

// balanceUnit converts the stored integer amounts into the currency unit (the predecessor's divisor).
const balanceUnit = 1_000_000

// row is one user's columns; nil means NULL (or no Account row).
type row struct{ balance, deduction *int64 }

// balanceSource connects once per cycle (one connection, closed at the end of the cycle): the
// interval is minutes, and a fresh connection follows a restarted server or a rotated DSN for free.
type balanceSource struct {
	cfg    *Config
	set    receiver.Settings
	mb     *metadata.MetricsBuilder
	dsn    *dsnSource
	now    func() time.Time
	logged string // the last unreported-users message, so it is logged once per change
}

func newBalanceSource(cfg *Config, set receiver.Settings) *balanceSource {
	return &balanceSource{
		cfg: cfg,
		set: set,
		mb:  metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
		dsn: &dsnSource{cfg: cfg, getenv: os.Getenv},
		now: time.Now,
		// The quiet state: nothing is logged while every user has a balance.
		logged: unreportedMessage(nil, nil),
	}
}

// Start touches no database: an unreachable server is a failed cycle (success 0), not a failed start.
func (s *balanceSource) Start(context.Context, component.Host) error {
	if s.cfg.DSNEnv != "" && s.dsn.getenv(s.cfg.DSNEnv) == "" {
		return fmt.Errorf("dsn_env: environment variable %s is not set or empty", s.cfg.DSNEnv)
	}
	if s.cfg.DSNSecret == nil {
		return nil
	}
	rc, err := s.cfg.RestConfig("otelcol-sealos/" + s.set.ID.String())
	if err != nil {
		return err
	}
	if s.dsn.client, err = kubernetes.NewForConfig(rc); err != nil {
		return fmt.Errorf("kubernetes client for %s: %w", rc.Host, err)
	}
	return nil
}

// Lead has nothing to watch: Collect does all the work, and only runs while leading.
func (*balanceSource) Lead(ctx context.Context, term statereceiver.Term) {
	term.Ready()
	<-ctx.Done()
}

func (*balanceSource) Shutdown(context.Context) error { return nil }

func (s *balanceSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	dsn, err := s.dsn.resolve(ctx)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	rows, err := s.query(ctx, dsn)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	s.record(pcommon.NewTimestampFromTime(s.now()), rows)
	return s.mb.Emit(), nil
}

// query connects, reads every configured user's row and disconnects, each step bounded by
// query_timeout. Errors never contain the DSN or its password.
func (s *balanceSource) query(ctx context.Context, dsn string) (map[string]row, error) {
	pgcfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.dsnKey(), errUnparsableDSN)
	}
	secrets := []string{dsn, pgcfg.Password}
	pgcfg.ConnectTimeout = s.cfg.QueryTimeout
	target := fmt.Sprintf("PostgreSQL %s:%d/%s", pgcfg.Host, pgcfg.Port, pgcfg.Database)

	connectCtx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	conn, err := pgx.ConnectConfig(connectCtx, pgcfg)
	cancel()
	if err != nil {
		return nil, redact.Error(fmt.Errorf("connecting to %s: %w", target, err), secrets...)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), s.cfg.QueryTimeout)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()

	ids := make([]string, 0, len(s.cfg.Users))
	for _, u := range s.cfg.Users {
		ids = append(ids, u.UID)
	}
	queryCtx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	pgRows, err := conn.Query(queryCtx, balanceQuery, ids)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("querying balances from %s (query_timeout %s): %w", target, s.cfg.QueryTimeout, err), secrets...)
	}
	out := make(map[string]row, len(ids))
	var (
		id string
		r  row
	)
	_, err = pgx.ForEachRow(pgRows, []any{&id, &r.balance, &r.deduction}, func() error {
		out[id] = r
		return nil
	})
	if err != nil {
		return nil, redact.Error(fmt.Errorf("reading balances from %s (query_timeout %s): %w", target, s.cfg.QueryTimeout, err), secrets...)
	}
	return out, nil
}

func (s *balanceSource) dsnKey() string {
	switch {
	case s.cfg.DSN != "":
		return "dsn"
	case s.cfg.DSNEnv != "":
		return "dsn_env " + s.cfg.DSNEnv
	default:
		return fmt.Sprintf("dsn_secret %s/%s key %s", s.cfg.DSNSecret.Namespace, s.cfg.DSNSecret.Name, s.cfg.DSNSecret.Key)
	}
}

// record emits one balance (and quota) series per configured user whose balance was read, and
// counts the others by reason: a missing or NULL balance never becomes a fake 0.
func (s *balanceSource) record(ts pcommon.Timestamp, rows map[string]row) {
	var notFound, nullBalance []string
	for _, u := range s.cfg.Users {
		r, ok := rows[u.UID]
		switch {
		case !ok:
			notFound = append(notFound, u.UID)
			continue
		case r.balance == nil:
			nullBalance = append(nullBalance, u.UID)
			continue
		}
		var deduction int64 // NULL deduction_balance: nothing deducted yet
		if r.deduction != nil {
			deduction = *r.deduction
		}
		s.mb.RecordUserbalanceBalanceDataPoint(ts, balanceValue(*r.balance, deduction), u.Region, u.UUID, u.UID, u.Owner, u.Type, u.Level)
		if u.Quota != nil {
			s.mb.RecordUserbalanceQuotaDataPoint(ts, *u.Quota, u.Region, u.UUID, u.UID, u.Owner, u.Type, u.Level)
		}
	}
	s.mb.RecordUserbalanceUnreportedUsersDataPoint(ts, int64(len(notFound)), metadata.AttributeReasonNotFound)
	s.mb.RecordUserbalanceUnreportedUsersDataPoint(ts, int64(len(nullBalance)), metadata.AttributeReasonNullBalance)
	s.logUnreported(notFound, nullBalance)
}

func (s *balanceSource) logUnreported(notFound, nullBalance []string) {
	msg := unreportedMessage(notFound, nullBalance)
	if msg == s.logged {
		return
	}
	s.logged = msg
	if len(notFound)+len(nullBalance) == 0 {
		s.set.Logger.Info("every configured user has a balance again")
		return
	}
	s.set.Logger.Warn("configured users without a balance series (not_found: no \"User\" row with that id; null_balance: no \"Account\" row or a NULL balance)",
		zap.Strings("not_found", notFound), zap.Strings("null_balance", nullBalance))
}

func unreportedMessage(notFound, nullBalance []string) string {
	return fmt.Sprintf("not_found=[%s] null_balance=[%s]", strings.Join(notFound, ","), strings.Join(nullBalance, ","))
}

// balanceValue is the predecessor's formula: (balance - deduction) / 1e6, rounded to 2 decimals.
func balanceValue(balance, deduction int64) float64 {
	return math.Round(float64(balance-deduction)/balanceUnit*100) / 100
}
