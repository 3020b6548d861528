package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"sigs.k8s.io/yaml"

	ubt "github.com/labring/otelcol-sealos/test/userbalancetest"
)

// userBalanceEnv is the variable config/demo.yaml's userbalance receiver reads its DSN from.
const userBalanceEnv = "DEMO_USERBALANCE_DSN"

// prepareUserBalance creates a billing database with sample users in the local PostgreSQL and
// returns the collector config to run, the environment to add, and a cleanup dropping the database.
// Without a reachable PostgreSQL it says so and returns a copy of config without the userbalance
// receiver, so the rest of the demo still runs.
func prepareUserBalance(ctx context.Context, config, dir string) (string, []string, func()) {
	admin := ubt.AdminDSN()
	createCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	db, err := ubt.Create(createCtx, admin, "otelcol_sealos_demo")
	if err == nil {
		err = db.AddUsers(createCtx,
			ubt.User{ID: "demo-ops", Balance: ubt.Amount(12_345_678_900), Deduction: ubt.Amount(345_678_900)},
			ubt.User{ID: "demo-ci", Balance: ubt.Amount(5_000_000)},
			ubt.User{ID: "demo-overdrawn", Balance: ubt.Amount(1_000_000), Deduction: ubt.Amount(3_500_000)},
			ubt.User{ID: "demo-no-account", NoAccount: true},
		)
	}
	if err != nil {
		step("PostgreSQL not reachable or not writable (%v; set OTELCOL_SEALOS_PG_DSN to use another server): the demo runs WITHOUT the userbalance receiver", err)
		if db != nil {
			_ = db.Drop(context.Background(), admin)
		}
		stripped, err := withoutReceiver(config, "userbalance", dir)
		if err != nil {
			step("cannot remove userbalance from %s (%v): the collector will report it failing", config, err)
			return config, nil, func() {}
		}
		return stripped, nil, func() {}
	}
	step("created PostgreSQL database %s with sample users demo-ops, demo-ci, demo-overdrawn, demo-no-account (demo-missing is configured but absent)", db.Name)
	cleanup := func() {
		step("dropping database %s", db.Name)
		dropCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(dropCtx, admin)
	}
	return config, []string{userBalanceEnv + "=" + db.DSN}, cleanup
}

// withoutReceiver writes, in dir, config minus receiver id: its definition, its entries in every
// pipeline, and pipelines left without receivers.
func withoutReceiver(config, id, dir string) (string, error) {
	raw, err := os.ReadFile(config)
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", err
	}
	if receivers, ok := doc["receivers"].(map[string]any); ok {
		delete(receivers, id)
	}
	service, _ := doc["service"].(map[string]any)
	pipelines, _ := service["pipelines"].(map[string]any)
	for name, p := range pipelines {
		pipeline, ok := p.(map[string]any)
		if !ok {
			continue
		}
		list, _ := pipeline["receivers"].([]any)
		list = slices.DeleteFunc(list, func(r any) bool { return r == id })
		if len(list) == 0 {
			delete(pipelines, name)
			continue
		}
		pipeline["receivers"] = list
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "demo-without-"+id+".yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}
