package prometheusstateexporter

import (
	"math"
	"strconv"
	"strings"
)

// The functions below write exactly what github.com/prometheus/common/expfmt's text encoder
// (format 0.0.4) writes for the same sample, so that output is byte-compatible with the
// contrib exporter's (client_golang) output.

// labelPair is one label of a series, name already translated.
type labelPair struct{ name, value string }

// appendFloat writes a sample value or a float label value as expfmt's writeFloat does.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	default:
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
}

// appendLabelValue escapes a label value (backslash, newline, double quote).
func appendLabelValue(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\\\n\"") {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendHelp escapes HELP text (backslash, newline).
func appendHelp(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendLabels writes `a="x",b="y"` (no braces) for labels sorted by name.
func appendLabels(b []byte, labels []labelPair) []byte {
	for i, l := range labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.name...)
		b = append(b, `="`...)
		b = appendLabelValue(b, l.value)
		b = append(b, '"')
	}
	return b
}

// sampleWriter renders the lines of one series: the label set is rendered once (the series
// key) and reused for every line (histogram buckets, _sum, _count).
type sampleWriter struct {
	name      string // family name
	labels    []byte // `a="x",b="y"`, may be empty
	timestamp string // " 1234" when send_timestamps, else ""
}

// line appends `name+suffix{labels[,extraName="extraValue"]} value[ ts]\n`.
func (w sampleWriter) line(b []byte, suffix, extraName string, extraValue, value float64) []byte {
	b = append(b, w.name...)
	b = append(b, suffix...)
	if len(w.labels) > 0 || extraName != "" {
		b = append(b, '{')
		b = append(b, w.labels...)
		if extraName != "" {
			if len(w.labels) > 0 {
				b = append(b, ',')
			}
			b = append(b, extraName...)
			b = append(b, `="`...)
			b = appendFloat(b, extraValue)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, value)
	b = append(b, w.timestamp...)
	return append(b, '\n')
}

// familyHeader renders `# HELP` and `# TYPE` as client_golang does (HELP always present).
func familyHeader(name, help, typ string) []byte {
	b := make([]byte, 0, 2*len(name)+len(help)+32)
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendHelp(b, help)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}
