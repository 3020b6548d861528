package lvmreceiver

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/labring/otelcol-sealos/receiver/lvmreceiver/internal/metadata"
	"github.com/labring/otelcol-sealos/test/lvmtest"
)

// BenchmarkCycle is one collection on real volume groups: two of them (vgs only), then with a
// thin pool in one (vgs, then lvs). Nearly all of it is LVM's tools; their CPU (children of this
// process) is reported as cpu-tools-ms/cycle, the receiver's own as cpu-self-ms/cycle.
func BenchmarkCycle(b *testing.B) {
	lvmtest.Require(b)
	ctx := context.Background()
	lvmtest.CreateT(b, "bench_a", 64<<20)
	thin := lvmtest.CreateT(b, "bench_b", 128<<20)
	cfg := testConfig("vgs", "lvs")

	run := func(b *testing.B) {
		src := newLVMSource(cfg, receivertest.NewNopSettings(metadata.Type))
		b.ReportAllocs()
		b.ResetTimer()
		self, tools := cpu(b, syscall.RUSAGE_SELF), cpu(b, syscall.RUSAGE_CHILDREN)
		for b.Loop() {
			md, err := src.Collect(ctx)
			if err != nil || md.DataPointCount() == 0 {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64((cpu(b, syscall.RUSAGE_SELF)-self).Microseconds())/1000/float64(b.N), "cpu-self-ms/cycle")
		b.ReportMetric(float64((cpu(b, syscall.RUSAGE_CHILDREN)-tools).Microseconds())/1000/float64(b.N), "cpu-tools-ms/cycle")
	}
	b.Run("vgs", run)
	require.NoError(b, thin.AddThinPool(ctx, "pool", 4, 8))
	b.Run("vgs+lvs", run)
}

// cpu is the user + system CPU time of this process (RUSAGE_SELF) or of its waited-for children
// (RUSAGE_CHILDREN).
func cpu(b *testing.B, who int) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(who, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
