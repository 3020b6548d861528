package fieldpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var object = map[string]any{
	"metadata": map[string]any{
		"name":   "db",
		"labels": map[string]any{"app.kubernetes.io/name": "mysql", "team": "a"},
	},
	"spec": map[string]any{"replicas": int64(3), "ratio": 0.5, "paused": false},
	"status": map[string]any{
		"conditions": []any{
			map[string]any{"type": "Ready", "status": "True"},
			map[string]any{"type": "Synced", "status": "False", "generation": int64(7)},
		},
		"weird": []any{"x", int64(1), nil},
	},
}

func TestGet(t *testing.T) {
	tests := map[string]any{
		"metadata.name": "db",
		`metadata.labels["app.kubernetes.io/name"]`: "mysql",
		`metadata.labels['app.kubernetes.io/name']`: "mysql",
		`metadata["labels"].team`:                   "a",
		"spec.replicas":                             int64(3),
		"spec.paused":                               false,
		"status.conditions[0].type":                 "Ready",
		"status.conditions[-1].type":                "Synced",
		"status.conditions[type=Synced].status":     "False",
		`status.conditions[type="Ready"].status`:    "True",
		"status.conditions[generation=7].type":      "Synced",
		"status.weird[1]":                           int64(1),
	}
	for path, want := range tests {
		t.Run(path, func(t *testing.T) {
			p, err := Parse(path)
			require.NoError(t, err)
			got, ok := p.Get(object)
			require.True(t, ok)
			assert.Equal(t, want, got)
		})
	}
}

func TestGetMissesWithoutPanicking(t *testing.T) {
	for _, path := range []string{
		"metadata.nope", "spec.replicas.deeper", "status.conditions[5]", "status.conditions[-3]",
		"status.conditions[type=Gone].status", "metadata[0]", "spec.replicas[type=x]", "status.weird[2].x",
		"status.weird[type=x]",
	} {
		t.Run(path, func(t *testing.T) {
			v, ok := MustParse(path).Get(object)
			assert.False(t, ok && v != nil, "got %v", v)
		})
	}
}

func TestEmptyPathIsTheElement(t *testing.T) {
	p := MustParse("")
	assert.True(t, p.IsEmpty())
	v, ok := p.Get("scalar")
	assert.True(t, ok)
	assert.Equal(t, "scalar", v)
}

func TestParseErrorsPointAtTheCharacter(t *testing.T) {
	tests := map[string]struct {
		offset int
		msg    string
	}{
		"status..phase":         {7, "empty key"},
		".status":               {0, "empty key"},
		"status.":               {7, "path ends with '.'"},
		"status.phase]":         {12, `unexpected ']' in key`},
		"a[":                    {2, "unterminated '['"},
		"a[0":                   {3, "expected ']'"},
		"a[0]b":                 {4, `expected '.' or '['`},
		`a["x`:                  {2, "unterminated quote"},
		`a["x\q"]`:              {4, `unknown escape`},
		"a[type]":               {6, "expected '='"},
		"a[=x]":                 {2, "empty field name"},
		"metadata.labels.a b":   {17, `unexpected ' '`},
		"a[-]":                  {2, "invalid list index"},
		`labels.app.k8s.io/x"y`: {19, `unexpected '"'`},
	}
	for path, want := range tests {
		t.Run(path, func(t *testing.T) {
			_, err := Parse(path)
			var pe *Error
			require.True(t, errors.As(err, &pe), "error %v", err)
			assert.Equal(t, want.offset, pe.Offset)
			assert.Contains(t, pe.Msg, want.msg)
			// The caret sits under the offending character.
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, 3)
			assert.Equal(t, "\t"+path, lines[1])
			assert.Equal(t, "\t"+strings.Repeat(" ", want.offset)+"^", lines[2])
		})
	}
}

func TestScalar(t *testing.T) {
	assert.Equal(t, "x", Scalar("x"))
	assert.Equal(t, "3", Scalar(int64(3)))
	assert.Equal(t, "0.25", Scalar(0.25))
	assert.Equal(t, "1000000", Scalar(1e6))
	assert.Equal(t, "true", Scalar(true))
	assert.Empty(t, Scalar(map[string]any{"a": 1}))
	assert.Empty(t, Scalar(nil))
}

// FuzzParse: any input either parses into a path that walks any object without panicking, or
// fails with an error whose offset lies within the input.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "a", "a.b.c", `a["b.c/d"]`, `a['x\'y']`, "a[0]", "a[-1].b", "a[type=Ready].status",
		`a[type="Re]ady"]`, "a..b", "a[", "[0]", `["k"]`, "a[x=]", "a.[0]", "a[0]]", `a\b`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("offset %d outside %q", pe.Offset, s)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("String() = %q, want %q", p.String(), s)
		}
		_, _ = p.Get(object)
		_, _ = p.Get(nil)
		_, _ = p.Get([]any{object, "x"})
	})
}
