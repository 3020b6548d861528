// Package fieldpath parses and evaluates the paths that point into a custom object:
//
//	spec.replicas                          dotted map keys
//	metadata.labels["app.kubernetes.io/name"]  a key with dots or slashes, quoted in brackets
//	status.conditions[0].type              a list index (negative counts from the end)
//	status.conditions[type=Ready].status   the first list element whose field equals a value
//
// The empty path is the element itself (used for values relative to a map or list entry).
package fieldpath

import (
	"fmt"
	"strconv"
	"strings"
)

// Path is a parsed path; the zero value is the empty path.
type Path struct {
	text string
	segs []segment
}

type segKind uint8

const (
	segKey segKind = iota
	segIndex
	segSelect
)

type segment struct {
	kind  segKind
	key   string // segKey: map key; segSelect: field compared
	index int    // segIndex
	value string // segSelect: value compared (as a string)
}

// Error is a parse error; it points at the offending character.
type Error struct {
	Path   string
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s at offset %d in %q\n\t%s\n\t%s^", e.Msg, e.Offset, e.Path, e.Path, strings.Repeat(" ", e.Offset))
}

// String returns the path as written.
func (p Path) String() string { return p.text }

// IsEmpty reports whether p is the empty path.
func (p Path) IsEmpty() bool { return len(p.segs) == 0 }

// Keys returns the leading run of plain map keys: what a cache transform must keep to be able to
// evaluate p (everything below the last key is kept whole).
func (p Path) Keys() []string {
	var keys []string
	for _, s := range p.segs {
		if s.kind != segKey {
			break
		}
		keys = append(keys, s.key)
	}
	return keys
}

// MustParse is Parse for constants in tests.
func MustParse(s string) Path {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Parse parses s.
func Parse(s string) (Path, error) {
	p := parser{s: s}
	segs, err := p.parse()
	if err != nil {
		return Path{}, err
	}
	return Path{text: s, segs: segs}, nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) fail(msg string) error { return &Error{Path: p.s, Offset: p.pos, Msg: msg} }

func (p *parser) parse() ([]segment, error) {
	var segs []segment
	if p.s == "" {
		return nil, nil
	}
	expectKey := true // at the start and after '.'
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '[':
			seg, err := p.bracket()
			if err != nil {
				return nil, err
			}
			segs = append(segs, seg)
			expectKey = false
		case c == '.':
			if expectKey {
				return nil, p.fail("empty key")
			}
			p.pos++
			expectKey = true
			if p.pos == len(p.s) {
				return nil, p.fail("path ends with '.'")
			}
		case !expectKey:
			return nil, p.fail(fmt.Sprintf("unexpected %q: expected '.' or '['", c))
		default:
			key, err := p.plainKey()
			if err != nil {
				return nil, err
			}
			segs = append(segs, segment{kind: segKey, key: key})
			expectKey = false
		}
	}
	return segs, nil
}

// plainKey reads a key up to '.', '[' or the end.
func (p *parser) plainKey() (string, error) {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '.' || c == '[' {
			break
		}
		if c == ']' || c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '=' {
			return "", p.fail(fmt.Sprintf("unexpected %q in key (quote the key: [\"...\"])", c))
		}
		p.pos++
	}
	if p.pos == start {
		return "", p.fail("empty key")
	}
	return p.s[start:p.pos], nil
}

// bracket reads [N], ["key"], ['key'] or [field=value] starting at '['.
func (p *parser) bracket() (segment, error) {
	p.pos++ // '['
	if p.pos >= len(p.s) {
		return segment{}, p.fail("unterminated '['")
	}
	var seg segment
	switch c := p.s[p.pos]; {
	case c == '"' || c == '\'':
		key, err := p.quoted()
		if err != nil {
			return segment{}, err
		}
		seg = segment{kind: segKey, key: key}
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		n, err := strconv.Atoi(p.s[start:p.pos])
		if err != nil {
			p.pos = start
			return segment{}, p.fail("invalid list index")
		}
		seg = segment{kind: segIndex, index: n}
	default:
		field, err := p.selectorPart(true)
		if err != nil {
			return segment{}, err
		}
		if p.pos >= len(p.s) || p.s[p.pos] != '=' {
			return segment{}, p.fail("expected '=' in [field=value] (a key needs quotes: [\"key\"])")
		}
		p.pos++
		value, err := p.selectorPart(false)
		if err != nil {
			return segment{}, err
		}
		seg = segment{kind: segSelect, key: field, value: value}
	}
	if p.pos >= len(p.s) {
		return segment{}, p.fail("unterminated '[': expected ']'")
	}
	if p.s[p.pos] != ']' {
		return segment{}, p.fail(fmt.Sprintf("unexpected %q: expected ']'", p.s[p.pos]))
	}
	p.pos++
	return seg, nil
}

// selectorPart reads a quoted string or a bare word up to '=' (field) or ']' (value).
func (p *parser) selectorPart(field bool) (string, error) {
	if p.pos < len(p.s) && (p.s[p.pos] == '"' || p.s[p.pos] == '\'') {
		return p.quoted()
	}
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == ']' || (field && c == '=') {
			break
		}
		if c == '[' || c == '"' || c == '\'' || (!field && c == '=') {
			return "", p.fail(fmt.Sprintf("unexpected %q in [field=value] (quote it)", c))
		}
		p.pos++
	}
	if field && p.pos == start {
		return "", p.fail("empty field name in [field=value]")
	}
	return p.s[start:p.pos], nil
}

// quoted reads a '...' or "..." string with backslash escapes for the quote and backslash.
func (p *parser) quoted() (string, error) {
	q := p.s[p.pos]
	open := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch c {
		case '\\':
			if p.pos+1 >= len(p.s) {
				p.pos++
				return "", p.fail("unterminated escape")
			}
			next := p.s[p.pos+1]
			if next != q && next != '\\' {
				return "", p.fail(fmt.Sprintf("unknown escape \\%c (only \\%c and \\\\)", next, q))
			}
			b.WriteByte(next)
			p.pos += 2
		case q:
			p.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	p.pos = open
	return "", p.fail("unterminated quote")
}

// Get walks obj (decoded JSON: map[string]any, []any, scalars) along p. It never panics on
// unexpected types: a step that does not fit yields (nil, false).
func (p Path) Get(obj any) (any, bool) {
	cur := obj
	for _, s := range p.segs {
		switch s.kind {
		case segKey:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[s.key]; !ok {
				return nil, false
			}
		case segIndex:
			l, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			i := s.index
			if i < 0 {
				i += len(l)
			}
			if i < 0 || i >= len(l) {
				return nil, false
			}
			cur = l[i]
		case segSelect:
			l, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			found := false
			for _, e := range l {
				if m, ok := e.(map[string]any); ok {
					if v, ok := m[s.key]; ok && Scalar(v) == s.value {
						cur, found = e, true
						break
					}
				}
			}
			if !found {
				return nil, false
			}
		}
	}
	return cur, true
}

// Scalar renders a JSON scalar as a label value: strings as is, numbers without exponent or
// trailing zeros, booleans as true/false; anything else (maps, lists, nil) as "".
func Scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	default:
		return ""
	}
}
