package directory

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a directory file. Path names the offending key,
// e.g. "pools.na-west-sdrs.members.rep-77"; list items are named by their id
// when they have one ("reps[rep-7].manager") and by index otherwise.
type Error struct {
	File string
	Line int // 0 when unknown (a Directory built in code)
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a file, ordered by line; one line each.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As reach each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Path < es[j].Path
	})
	return es
}

// Load reads and parses the directory file at path; errors name the path.
func Load(path string) (*Directory, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return Parse(path, src)
}

// Parse parses and validates a directory file; name is used in errors. On
// error the result is nil and the error is an Errors listing every problem
// (or a YAML syntax error, which stops parsing).
func Parse(name string, src []byte) (*Directory, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &parser{
		d: &Directory{
			Reps:     map[string]Rep{},
			Pools:    map[string]Pool{},
			Accounts: map[string]Account{},
			file:     name,
			pos:      map[string]int{},
			locs:     map[string]*time.Location{},
		},
	}
	p.document(&doc)
	errs := append(p.errs, p.d.validate()...)
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	for _, r := range p.d.Reps {
		if _, ok := p.d.locs[r.Timezone]; !ok {
			loc, err := time.LoadLocation(r.Timezone)
			if err != nil { // validate checked; kept so a race with zoneinfo cannot panic
				return nil, fmt.Errorf("%s: reps[%s].timezone: %w", name, r.ID, err)
			}
			p.d.locs[r.Timezone] = loc
		}
	}
	return p.d, nil
}

type parser struct {
	d    *Directory
	errs Errors
}

func (p *parser) errf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) mark(path string, n *yaml.Node) { p.d.pos[path] = n.Line }

// resolve follows aliases, so anchors in the file work.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// fields checks that n is a mapping with only the allowed keys, and calls
// fn for each key in file order. Unknown and repeated keys are reported.
func (p *parser) fields(n *yaml.Node, path string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errf(n, path, "want a mapping, got %s", kind(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := k.Value
		if first, dup := seen[key]; dup {
			p.errf(k, join(path, key), "duplicate key (first on line %d)", first)
			continue
		}
		seen[key] = k.Line
		if allowed != nil && !contains(allowed, key) {
			p.errf(k, join(path, key), "unknown key (want one of %s)", strings.Join(allowed, ", "))
			continue
		}
		fn(key, k, v)
	}
}

func (p *parser) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, path, "want a string, got %s", kind(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

func (p *parser) integer(n *yaml.Node, path string) (int, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, path, "want an integer, got %s", kind(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errf(n, path, "want an integer, got %q", n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) seq(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "away:" with nothing under it
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, path, "want a list, got %s", kind(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

func (p *parser) document(doc *yaml.Node) {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errf(nil, "", "empty file")
		return
	}
	p.fields(doc.Content[0], "", []string{"reps", "pools", "accounts", "away"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "reps":
			p.reps(v)
		case "pools":
			p.pools(v)
		case "accounts":
			p.accounts(v)
		case "away":
			p.away(v)
		}
	})
}

var (
	repKeys     = []string{"id", "name", "manager", "timezone", "capacity_per_day", "email", "hubspot_owner_id", "slack"}
	poolKeys    = []string{"strategy", "members", "fallback"}
	accountKeys = []string{"domain", "owner", "name"}
	awayKeys    = []string{"rep", "from", "to"}
)

func (p *parser) reps(n *yaml.Node) {
	for i, item := range p.seq(n, "reps") {
		// Find the id first: it names the item in every other message.
		id := scalarField(item, "id")
		path := fmt.Sprintf("reps[%d]", i)
		if id != "" {
			path = "reps[" + id + "]"
			if _, dup := p.d.Reps[id]; dup {
				// Skip the whole item: its positions would overwrite the first's.
				p.errf(item, join(path, "id"), "duplicate rep id (first on line %d)", p.d.pos[path])
				continue
			}
		}
		var r Rep
		p.fields(item, path, repKeys, func(key string, k, v *yaml.Node) {
			fp := join(path, key)
			p.mark(fp, v)
			switch key {
			case "id":
				r.ID = p.str(v, fp)
			case "name":
				r.Name = p.str(v, fp)
			case "manager":
				r.Manager = p.str(v, fp)
			case "timezone":
				r.Timezone = p.str(v, fp)
			case "capacity_per_day":
				r.CapacityPerDay, _ = p.integer(v, fp)
			case "email":
				r.Email = p.str(v, fp)
			case "hubspot_owner_id":
				// Written bare (hubspot_owner_id: 41629779) it is a YAML
				// integer; the value is kept as the digits written.
				r.HubSpotOwnerID = p.str(v, fp)
			case "slack":
				r.Slack = p.str(v, fp)
			}
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if r.ID == "" {
			p.errf(item, join(path, "id"), "missing")
			continue
		}
		p.mark(path, item)
		p.d.Reps[r.ID] = r
	}
}

func (p *parser) pools(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	p.fields(n, "pools", nil, func(name string, k, v *yaml.Node) {
		path := join("pools", name)
		p.mark(path, k)
		pool := Pool{Name: name}
		p.fields(v, path, poolKeys, func(key string, _, fv *yaml.Node) {
			fp := join(path, key)
			p.mark(fp, fv)
			switch key {
			case "strategy":
				pool.Strategy = p.str(fv, fp)
			case "fallback":
				pool.Fallback = p.str(fv, fp)
			case "members":
				pool.Members = p.members(fv, fp)
			}
		})
		p.d.Pools[name] = pool // fields already reported a repeated pool name
	})
}

// members accepts a list of rep ids (weight 1 each) or a mapping of rep id to
// weight. The mapping is read from the node, not a Go map, to keep file order:
// rotation order is part of what the file says.
func (p *parser) members(n *yaml.Node, path string) []Member {
	var out []Member
	switch n.Kind {
	case yaml.SequenceNode:
		for i, c := range n.Content {
			c = resolve(c)
			id := p.str(c, fmt.Sprintf("%s[%d]", path, i))
			if id == "" {
				if c.Kind == yaml.ScalarNode {
					p.errf(c, fmt.Sprintf("%s[%d]", path, i), "empty rep id")
				}
				continue
			}
			mp := join(path, id)
			if first, dup := p.d.pos[mp]; dup {
				p.errf(c, mp, "duplicate member (first on line %d)", first)
				continue
			}
			p.mark(mp, c)
			out = append(out, Member{RepID: id, Weight: 1})
		}
	case yaml.MappingNode:
		p.fields(n, path, nil, func(id string, k, v *yaml.Node) {
			mp := join(path, id)
			p.mark(mp, k)
			w, ok := p.integer(v, mp)
			if !ok {
				w = 1 // reported; keep the member so later checks still see it
			}
			out = append(out, Member{RepID: id, Weight: w})
		})
	default:
		p.errf(n, path, "want a list of rep ids or a mapping of rep id to weight, got %s", kind(n))
	}
	return out
}

func (p *parser) accounts(n *yaml.Node) {
	for i, item := range p.seq(n, "accounts") {
		dom := NormalizeDomain(scalarField(item, "domain"))
		path := fmt.Sprintf("accounts[%d]", i)
		if dom != "" {
			path = "accounts[" + dom + "]"
			if _, dup := p.d.Accounts[dom]; dup {
				p.errf(item, join(path, "domain"), "duplicate account domain (first on line %d)", p.d.pos[path])
				continue
			}
		}
		var a Account
		p.fields(item, path, accountKeys, func(key string, k, v *yaml.Node) {
			fp := join(path, key)
			p.mark(fp, v)
			switch key {
			case "domain":
				a.Domain = p.str(v, fp)
			case "owner":
				a.Owner = p.str(v, fp)
			case "name":
				a.Name = p.str(v, fp)
			}
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if dom == "" {
			p.errf(item, join(path, "domain"), "missing")
			continue
		}
		p.mark(path, item)
		p.d.Accounts[dom] = a
	}
}

func (p *parser) away(n *yaml.Node) {
	for i, item := range p.seq(n, "away") {
		path := fmt.Sprintf("away[%d]", i)
		p.mark(path, item)
		var a Away
		p.fields(item, path, awayKeys, func(key string, k, v *yaml.Node) {
			fp := join(path, key)
			p.mark(fp, v)
			switch key {
			case "rep":
				a.RepID = p.str(v, fp)
			case "from":
				a.From = p.str(v, fp)
			case "to":
				a.To = p.str(v, fp)
			}
		})
		// Keep every item, even a broken one, so away[i] in Validate's
		// messages is the i-th item of the file.
		p.d.Away = append(p.d.Away, a)
	}
}

// scalarField returns the scalar value of key in mapping n, or "".
func scalarField(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := resolve(n.Content[i]), resolve(n.Content[i+1]); k.Value == key && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
