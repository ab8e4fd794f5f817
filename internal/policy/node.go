package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The policy is decoded by walking yaml.Node trees rather than by
// yaml.Unmarshal into structs: only nodes keep line numbers for every value,
// and walking by hand lets one pass report every problem instead of the first.

// parser collects errors while decoding one file.
type parser struct {
	file string
	errs ErrorList
}

func (p *parser) errorf(line int, key, format string, args ...any) {
	p.errs = append(p.errs, Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// field is one value of the file with the key that introduced it (nil for
// the document root and for list items) and its dotted path.
type field struct {
	key, val *yaml.Node
	path     string
}

// line is where errors about the field as a whole (a missing sub-key, say)
// point: the key's line, so "sla:" rather than the first line below it.
func (f field) line() int {
	if f.key != nil {
		return f.key.Line
	}
	return f.val.Line
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	default:
		return strconv.Quote(n.Value)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// entries returns a mapping's entries in file order, reporting repeated keys
// (yaml.v3 checks those only when decoding into Go values, not into Nodes).
// It returns nil, having reported why, if f is not a mapping.
func (p *parser) entries(f field) []field {
	n := f.val
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, f.path, "want a mapping, got %s", describe(n))
		return nil
	}
	out := []field{}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, f.path, "keys must be plain names, got %s", describe(k))
			continue
		}
		path := join(f.path, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, path, "repeated key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, field{key: k, val: v, path: path})
	}
	return out
}

type fields map[string]field

// mapping decodes a mapping with a fixed set of keys. Unknown keys are
// errors (a misspelt key would otherwise silently fall back to a default).
// A key with no value ("when:") counts as absent. It returns nil if f is not
// a mapping.
func (p *parser) mapping(f field, allowed ...string) fields {
	es := p.entries(f)
	if es == nil {
		return nil
	}
	m := fields{}
	for _, e := range es {
		if !slices.Contains(allowed, e.key.Value) {
			p.errorf(e.key.Line, e.path, "unknown key (want %s)", strings.Join(allowed, ", "))
			continue
		}
		if !isNull(e.val) {
			m[e.key.Value] = e
		}
	}
	return m
}

// need returns m[key], reporting it missing at the parent's line.
func (p *parser) need(parent field, m fields, key string) (field, bool) {
	f, ok := m[key]
	if !ok {
		p.errorf(parent.line(), join(parent.path, key), "required")
	}
	return f, ok
}

// list returns the items of a sequence; nil, reported, if f is not one.
func (p *parser) list(f field) []field {
	if f.val.Kind != yaml.SequenceNode {
		p.errorf(f.val.Line, f.path, "want a list, got %s", describe(f.val))
		return nil
	}
	out := make([]field, len(f.val.Content))
	for i, n := range f.val.Content {
		out[i] = field{val: deref(n), path: fmt.Sprintf("%s[%d]", f.path, i)}
	}
	return out
}

func (p *parser) scalar(f field) (string, bool) {
	if f.val.Kind != yaml.ScalarNode || isNull(f.val) {
		p.errorf(f.val.Line, f.path, "want a single value, got %s", describe(f.val))
		return "", false
	}
	return f.val.Value, true
}

// str is a non-empty string. Any scalar is taken as written, so that
// `version: 3` or `region: 10` need no quotes.
func (p *parser) str(f field) (string, bool) {
	s, ok := p.scalar(f)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		p.errorf(f.val.Line, f.path, "must not be empty")
		return "", false
	}
	return s, true
}

func (p *parser) integer(f field, min int) (int, bool) {
	s, ok := p.scalar(f)
	if !ok {
		return 0, false
	}
	var n int
	if f.val.ShortTag() != "!!int" || f.val.Decode(&n) != nil {
		p.errorf(f.val.Line, f.path, "want a whole number, got %q", s)
		return 0, false
	}
	if n < min {
		p.errorf(f.val.Line, f.path, "must be %d or more, is %d", min, n)
		return 0, false
	}
	return n, true
}

func (p *parser) number(f field) (float64, bool) {
	s, ok := p.scalar(f)
	if !ok {
		return 0, false
	}
	var x float64
	if t := f.val.ShortTag(); (t != "!!int" && t != "!!float") || f.val.Decode(&x) != nil {
		p.errorf(f.val.Line, f.path, "want a number, got %q", s)
		return 0, false
	}
	return x, true
}

func (p *parser) boolean(f field) (bool, bool) {
	s, ok := p.scalar(f)
	if !ok {
		return false, false
	}
	var b bool
	if f.val.ShortTag() != "!!bool" || f.val.Decode(&b) != nil {
		p.errorf(f.val.Line, f.path, "want true or false, got %q", s)
		return false, false
	}
	return b, true
}

// duration parses a policy duration; positive requires it to be more than
// zero (a window of 0 would breach at once, a cadence of 0 would spin).
func (p *parser) duration(f field, positive bool) (Duration, bool) {
	s, ok := p.scalar(f)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.errorf(f.val.Line, f.path, "%v", err)
		return 0, false
	}
	if positive && d <= 0 {
		p.errorf(f.val.Line, f.path, "must be more than zero")
		return 0, false
	}
	return d, true
}

// clock parses "HH:MM" (24-hour; "24:00" is the end of the day).
func (p *parser) clock(f field) (Clock, bool) {
	s, ok := p.scalar(f)
	if !ok {
		return 0, false
	}
	c, err := ParseClock(s)
	if err != nil {
		p.errorf(f.val.Line, f.path, "%v", err)
		return 0, false
	}
	return c, true
}

// cond compiles a CEL condition; the compile error says what is wrong and
// where in the expression.
func (p *parser) cond(f field) (*Cond, bool) {
	s, ok := p.str(f)
	if !ok {
		return nil, false
	}
	c, err := Compile(s)
	if err != nil {
		p.errorf(f.val.Line, f.path, "%v", err)
		return nil, false
	}
	return c, true
}

// ParseClock parses a time of day "HH:MM" (24-hour clock, "9:00" allowed,
// "24:00" meaning the end of the day).
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	bad := fmt.Errorf("bad time of day %q: want HH:MM, 24-hour, e.g. 09:00 or 17:30", s)
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, bad
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, bad
	}
	return Clock(hh*60 + mm), nil
}

// String formats the clock as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
