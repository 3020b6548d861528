// Package loadtest is what the load harnesses (cmd/exporterbench, cmd/crdsbench) and the fault
// suite (e2e) share: gauge series of the crds receiver's shape pushed over OTLP/gRPC, a process'
// memory and CPU time from /proc, and percentiles of measured durations.
package loadtest

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	// SeriesPerObject is how many series one object has: info, replicas, phase and two conditions.
	SeriesPerObject = 5
	// ObjectsPerRequest bounds one OTLP request (25,000 data points).
	ObjectsPerRequest = 5000
	// Scope is the instrumentation scope of the series, the crds receiver's.
	Scope = "github.com/labring/otelcol-sealos/receiver/crdsreceiver"
)

// Gauges are Objects × SeriesPerObject gauge series of KubeBlocks-cluster-like objects, as the crds
// receiver emits them: kubeblocks.cluster.{info,replicas,phase} and two kubeblocks.cluster.condition
// series per object, labelled namespace (ns-0 … ns-49) and cluster (cluster-000000, …).
type Gauges struct {
	Objects int
	// Round sets the replicas value, 1 + (object + Round) % 3: pushing another round updates a
	// fifth of the series and leaves the label sets as they are.
	Round int
	// Generation, when not empty, is put on every point as the label "generation": each value
	// makes every series a new label set.
	Generation string
}

// Series is how many series g has.
func (g Gauges) Series() int { return g.Objects * SeriesPerObject }

// Batches are g's series in requests of at most ObjectsPerRequest objects, stamped now.
func (g Gauges) Batches() []pmetric.Metrics {
	var out []pmetric.Metrics
	ts := pcommon.NewTimestampFromTime(time.Now())
	for lo := 0; lo < g.Objects; lo += ObjectsPerRequest {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(Scope)
		gauge := func(name string) pmetric.NumberDataPointSlice {
			m := sm.Metrics().AppendEmpty()
			m.SetName(name)
			m.SetDescription(name + " of a KubeBlocks cluster.")
			return m.SetEmptyGauge().DataPoints()
		}
		info, replicas, phase, cond := gauge("kubeblocks.cluster.info"), gauge("kubeblocks.cluster.replicas"), gauge("kubeblocks.cluster.phase"), gauge("kubeblocks.cluster.condition")
		for i := lo; i < min(lo+ObjectsPerRequest, g.Objects); i++ {
			add := func(dps pmetric.NumberDataPointSlice, v float64, kv ...string) {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(ts)
				dp.SetDoubleValue(v)
				dp.Attributes().PutStr("namespace", fmt.Sprintf("ns-%d", i%50))
				dp.Attributes().PutStr("cluster", fmt.Sprintf("cluster-%06d", i))
				if g.Generation != "" {
					dp.Attributes().PutStr("generation", g.Generation)
				}
				for j := 0; j+1 < len(kv); j += 2 {
					dp.Attributes().PutStr(kv[j], kv[j+1])
				}
			}
			add(info, 1, "cluster_def", "apecloud-mysql", "cluster_version", "ac-mysql-8.0.30")
			add(replicas, float64(1+(i+g.Round)%3))
			add(phase, 1, "phase", "Running")
			add(cond, 1, "type", "Ready", "status", "True")
			add(cond, 1, "type", "ProvisioningStarted", "status", "True")
		}
		out = append(out, md)
	}
	return out
}

// Dial opens an insecure gRPC connection to an OTLP receiver (loopback).
func Dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// Pusher sends OTLP metric requests over one connection.
type Pusher struct {
	client pmetricotlp.GRPCClient
	// Timeout bounds one request.
	Timeout time.Duration
}

// NewPusher is a Pusher over conn with a timeout of 5 minutes per request.
func NewPusher(conn *grpc.ClientConn) *Pusher {
	return &Pusher{client: pmetricotlp.NewGRPCClient(conn), Timeout: 5 * time.Minute}
}

// Export sends one request; the error is the gRPC status the receiver answered with.
func (p *Pusher) Export(ctx context.Context, md pmetric.Metrics) error {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	_, err := p.client.Export(ctx, pmetricotlp.NewExportRequestFromMetrics(md))
	return err
}

// Push sends g's batches in order and stops at the first error.
func (p *Pusher) Push(ctx context.Context, g Gauges) error {
	for _, md := range g.Batches() {
		if err := p.Export(ctx, md); err != nil {
			return err
		}
	}
	return nil
}
