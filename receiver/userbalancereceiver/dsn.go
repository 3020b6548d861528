package userbalancereceiver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// errUnparsableDSN never carries the DSN: pgx's own parse error quotes it.
// Parsing also reads the files the DSN names (sslrootcert, sslcert, sslkey, passfile).
var errUnparsableDSN = errors.New("not a valid PostgreSQL connection string (URL or key=value), or a file it names cannot be read (value withheld)")

func checkDSN(dsn string) error {
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return errUnparsableDSN
	}
	return nil
}

// dsnSource resolves the connection string each cycle, so a rotated Secret is picked up without a
// restart.
type dsnSource struct {
	cfg    *Config
	getenv func(string) string
	client kubernetes.Interface // set only with dsn_secret
}

func (d *dsnSource) resolve(ctx context.Context) (string, error) {
	switch {
	case d.cfg.DSN != "":
		return string(d.cfg.DSN), nil
	case d.cfg.DSNEnv != "":
		if v := d.getenv(d.cfg.DSNEnv); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("dsn_env: environment variable %s is not set or empty", d.cfg.DSNEnv)
	default:
		return d.fromSecret(ctx)
	}
}

func (d *dsnSource) fromSecret(ctx context.Context) (string, error) {
	ref := d.cfg.DSNSecret
	ctx, cancel := context.WithTimeout(ctx, d.cfg.QueryTimeout)
	defer cancel()
	secret, err := d.client.CoreV1().Secrets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		// API errors name the object and the reason, never the data.
		return "", fmt.Errorf("dsn_secret: reading Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	v := strings.TrimSpace(string(secret.Data[ref.Key]))
	if v == "" {
		return "", fmt.Errorf("dsn_secret: Secret %s/%s has no key %q or it is empty", ref.Namespace, ref.Name, ref.Key)
	}
	return v, nil
}
