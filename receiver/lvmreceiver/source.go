package lvmreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/labring/otelcol-sealos/internal/statereceiver"
	"github.com/labring/otelcol-sealos/receiver/lvmreceiver/internal/metadata"
)

// lvmSource runs vgs (and lvs when a volume group has logical volumes) once per cycle.
type lvmSource struct {
	cfg *Config
	mb  *metadata.MetricsBuilder
	run runner
}

func newLVMSource(cfg *Config, set receiver.Settings) *lvmSource {
	return &lvmSource{
		cfg: cfg,
		mb:  metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
		run: runner{hostRoot: cfg.HostRoot, prefix: cfg.CommandPrefix, timeout: cfg.CommandTimeout},
	}
}

func (*lvmSource) Start(context.Context, component.Host) error { return nil }

// Lead has nothing to wait for: the host is read fresh in every cycle.
func (*lvmSource) Lead(ctx context.Context, term statereceiver.Term) {
	term.Ready()
	<-ctx.Done()
}

// Collect reports what vgs says now. A failed vgs is a failed cycle without any lvm series (never
// zeros or the last numbers); a failed lvs keeps the volume-group series and fails the cycle.
func (s *lvmSource) Collect(ctx context.Context) (pmetric.Metrics, error) {
	out, err := s.run.run(ctx, s.cfg.VGSPath, vgsArgs...)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	vgs, err := parseVGs(out)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	now := pcommon.NewTimestampFromTime(time.Now())
	node := s.cfg.NodeName
	s.mb.RecordLvmVolumeGroupsDataPoint(now, int64(len(vgs)), node)
	if len(vgs) == 0 {
		return s.mb.Emit(), nil
	}
	var capacity, free, mdaSize, mdaFree, lvs int64
	for _, vg := range vgs {
		capacity, free, mdaSize, mdaFree = capacity+vg.size, free+vg.free, mdaSize+vg.mdaSize, mdaFree+vg.mdaFree
		lvs += vg.lvCount
		s.mb.RecordLvmVgSizeDataPoint(now, vg.size, node, vg.name)
		s.mb.RecordLvmVgFreeDataPoint(now, vg.free, node, vg.name)
		s.mb.RecordLvmVgPhysicalVolumesDataPoint(now, vg.pvCount, node, vg.name)
		s.mb.RecordLvmVgLogicalVolumesDataPoint(now, vg.lvCount, node, vg.name)
	}
	s.mb.RecordLvmVgsTotalCapacityDataPoint(now, capacity, node)
	s.mb.RecordLvmVgsTotalFreeDataPoint(now, free, node)
	s.mb.RecordLvmVgsMetadataSizeDataPoint(now, mdaSize, node)
	s.mb.RecordLvmVgsMetadataFreeDataPoint(now, mdaFree, node)
	if lvs == 0 {
		return s.mb.Emit(), nil // no logical volume, so no thin pool: skip the second command
	}
	if err := s.recordThinPools(ctx, now); err != nil {
		return s.mb.Emit(), err
	}
	return s.mb.Emit(), nil
}

func (s *lvmSource) recordThinPools(ctx context.Context, now pcommon.Timestamp) error {
	out, err := s.run.run(ctx, s.cfg.LVSPath, lvsArgs...)
	if err != nil {
		return err
	}
	pools, err := parseThinPools(out)
	if err != nil {
		return err
	}
	node := s.cfg.NodeName
	for _, p := range pools {
		s.mb.RecordLvmThinPoolSizeDataPoint(now, p.size, node, p.vg, p.name)
		s.mb.RecordLvmThinPoolMetadataSizeDataPoint(now, p.metadataSize, node, p.vg, p.name)
		if p.hasDataUsage {
			s.mb.RecordLvmThinPoolDataUsageDataPoint(now, p.dataUsage, node, p.vg, p.name)
		}
		if p.hasMetaUsage {
			s.mb.RecordLvmThinPoolMetadataUsageDataPoint(now, p.metadataUsage, node, p.vg, p.name)
		}
	}
	return nil
}

func (*lvmSource) Shutdown(context.Context) error { return nil }
