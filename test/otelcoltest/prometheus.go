package otelcoltest

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/labring/otelcol-sealos/test/series"
)

// Scrape fetches a Prometheus text endpoint and returns its samples as
// `name{label="value",...}` → value, labels sorted; a histogram gives its name_bucket{le=...},
// name_sum and name_count samples.
func Scrape(url string) (map[string]float64, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	out := map[string]float64{}
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if h := m.GetHistogram(); fam.GetType() == dto.MetricType_HISTOGRAM && h != nil {
				addHistogram(out, name, labels, h)
				continue
			}
			out[series.Format(name, labels)] = value(fam.GetType(), m)
		}
	}
	return out, nil
}

func value(typ dto.MetricType, m *dto.Metric) float64 {
	switch typ {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

func addHistogram(out map[string]float64, name string, labels map[string]string, h *dto.Histogram) {
	out[series.Format(name+"_sum", labels)] = h.GetSampleSum()
	out[series.Format(name+"_count", labels)] = float64(h.GetSampleCount())
	bucket := maps.Clone(labels)
	for _, b := range h.GetBucket() {
		bucket["le"] = strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)
		out[series.Format(name+"_bucket", bucket)] = float64(b.GetCumulativeCount())
	}
	bucket["le"] = "+Inf"
	out[series.Format(name+"_bucket", bucket)] = float64(h.GetSampleCount())
}
