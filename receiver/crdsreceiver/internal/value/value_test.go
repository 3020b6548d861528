package value

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   any
		want float64
	}{
		{int64(3), 3},
		{2.5, 2.5},
		{true, 1},
		{false, 0},
		{"42", 42},
		{"-1.5e3", -1500},
		{"True", 1},
		{"yes", 1},
		{"NO", 0},
		{"false", 0},
		{"50%", 0.5},
		{"12.5 %", 0.125},
		{"2026-01-02T03:04:05Z", 1767323045},
		{"2026-01-02T03:04:05.5+01:00", 1767319445.5},
		{"500m", 0.5},
		{"2Gi", 2147483648},
		{"1k", 1000},
		{"1h30m", 5400},
		{"90s", 90},
		{"250ms", 0.25},
		{" 7 ", 7},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		require.NoError(t, err, "%#v", tt.in)
		assert.InDelta(t, tt.want, got, 1e-9, "%#v", tt.in)
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse(nil)
	assert.True(t, errors.Is(err, ErrMissing))
	for _, in := range []any{"", "unknown", "Running", "1x", map[string]any{}, []any{1}, math.NaN(), math.Inf(1), "NaN", "+Inf", "1e400"} {
		_, err := Parse(in)
		assert.Error(t, err, "%#v", in)
	}
}

// FuzzParse: any string either converts to a finite number or gives an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"0", "-1", "1.5e3", "true", "No", "50%", "%", "500m", "2Gi", "1e3k", "1h30m", "-5m0s",
		"2026-01-02T03:04:05Z", "9999-12-31T23:59:59.999999999Z", "1e400", "NaN", "0x10", "1_000", "∞"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("Parse(%q) = %v without error", s, v)
		}
	})
}
