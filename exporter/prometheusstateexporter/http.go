package prometheusstateexporter

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
)

// contentType is text format 0.0.4 (the only one served; see README).
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// serveMetrics writes every family's cached text: a scrape is a copy of buffers rebuilt only
// for families that changed since the previous scrape.
func (e *stateExporter) serveMetrics(w http.ResponseWriter, r *http.Request) {
	e.expire()
	w.Header().Set("Content-Type", contentType)
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body := e.gzipped()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
		return
	}
	parts, size := e.parts()
	w.Header().Set("Content-Length", strconv.Itoa(size))
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}

// parts are the exposition's byte slices in order (families by name, then self-metrics).
func (e *stateExporter) parts() ([][]byte, int) {
	fams := e.store.snapshot()
	parts := make([][]byte, 0, len(fams)+1)
	size := 0
	for _, f := range fams {
		if b := f.bytes(); len(b) > 0 {
			parts = append(parts, b)
			size += len(b)
		}
	}
	self := e.selfMetrics()
	return append(parts, self), size + len(self)
}

// gzipped returns the compressed exposition, recompressed only after something changed.
func (e *stateExporter) gzipped() []byte {
	e.gzipMu.Lock()
	defer e.gzipMu.Unlock()
	gen := e.store.gen.Load()
	if e.gzipBuf != nil && e.gzipGen == gen {
		return e.gzipBuf
	}
	parts, size := e.parts()
	var buf bytes.Buffer
	buf.Grow(size / 6)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	for _, p := range parts {
		_, _ = zw.Write(p)
	}
	_ = zw.Close()
	e.gzipBuf, e.gzipGen = buf.Bytes(), gen
	return e.gzipBuf
}

// acceptsGzip reports whether Accept-Encoding lists gzip with a non-zero quality.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// selfMetrics renders the exporter's own counters (names fixed, not namespaced).
func (e *stateExporter) selfMetrics() []byte {
	b := familyHeader("prometheus_state_exporter_dropped_points_total", "Data points not exported, by reason (see the exporter README).", "counter")
	for i, name := range reasonNames {
		b = sampleWriter{name: "prometheus_state_exporter_dropped_points_total", labels: []byte(`reason="` + name + `"`)}.line(b, "", "", 0, float64(e.dropped[i].Load()))
	}
	b = append(b, familyHeader("prometheus_state_exporter_duplicate_series_total", "Series overwritten by another producer (resource or scope) with the same name and labels; the last write wins.", "counter")...)
	b = sampleWriter{name: "prometheus_state_exporter_duplicate_series_total"}.line(b, "", "", 0, float64(e.duplicates.Load()))
	b = append(b, familyHeader("prometheus_state_exporter_series", "Series currently exported.", "gauge")...)
	return sampleWriter{name: "prometheus_state_exporter_series"}.line(b, "", "", 0, float64(e.store.seriesCount()))
}
