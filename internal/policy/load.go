package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"sync"

	// Embedded so that every worker resolves the policy's time zone the
	// same way, whatever zoneinfo its image has: SLA timers must replay
	// identically on any machine.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the policy file at path; errors name the path.
func Load(path string) (*Policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(path, src)
}

// Parse decodes and validates a policy. name is used in error messages. On
// failure the error is an ErrorList with every problem found.
func Parse(name string, src []byte) (*Policy, error) {
	p := &parser{file: name}
	root, err := p.document(src)
	if err != nil {
		return nil, err
	}
	pol := p.policy(field{val: root})
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	pol.Source = bytes.Clone(src)
	sum := sha256.Sum256(src)
	pol.Digest = hex.EncodeToString(sum[:])
	pol.name = name
	return pol, nil
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yaml.v3 reports parser errors (as opposed to scanner errors) with a
// 0-based line, that of the construct left open; these are its messages.
var yamlParserProblem = regexp.MustCompile(`^(did not find expected|found duplicate %|found incompatible YAML|found undefined tag handle)`)

// syntaxError turns a yaml.v3 error into an Error with a 1-based line.
func (p *parser) syntaxError(err error) Error {
	e := Error{File: p.file, Msg: err.Error()}
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return e
	}
	e.Msg = "bad YAML: " + m[2]
	e.Line, _ = strconv.Atoi(m[1])
	if yamlParserProblem.MatchString(m[2]) {
		e.Line++
	}
	return e
}

// document parses src into its single YAML document's root node.
func (p *parser) document(src []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{File: p.file, Msg: "empty policy"}}
		}
		return nil, ErrorList{p.syntaxError(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		// A second document would be ignored silently; refuse it instead.
		return nil, ErrorList{{File: p.file, Line: extra.Line, Msg: "more than one YAML document; a policy is one document"}}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, ErrorList{{File: p.file, Msg: "empty policy"}}
	}
	return deref(doc.Content[0]), nil
}

// The Temporal workflow re-parses the policy Source it carries on every
// replay; compiling the CEL each time would dominate replay cost. A process
// holds few policy versions, so the cache is never evicted.
var cache = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*Policy
}{m: map[[sha256.Size]byte]*Policy{}}

// FromSource is Parse("policy", src), cached by the SHA-256 of src: the same
// source yields the same *Policy. Safe for concurrent use.
func FromSource(src []byte) (*Policy, error) {
	sum := sha256.Sum256(src)
	cache.Lock()
	pol, ok := cache.m[sum]
	cache.Unlock()
	if ok {
		return pol, nil
	}
	// Parsed outside the lock: parsing is pure, so two racing callers at
	// worst parse twice, and both get whichever result was stored first.
	pol, err := Parse("policy", src)
	if err != nil {
		return nil, err
	}
	cache.Lock()
	defer cache.Unlock()
	if prev, ok := cache.m[sum]; ok {
		return prev, nil
	}
	cache.m[sum] = pol
	return pol, nil
}

// Play returns the play named name (a rejection reason, opportunity_lost or
// sal_stale).
func (p *Policy) Play(name string) (Play, bool) {
	pl, ok := p.Plays[name]
	return pl, ok
}

// Track returns the nurture track named name.
func (p *Policy) Track(name string) (Track, bool) {
	t, ok := p.Nurture.Tracks[name]
	return t, ok
}

// Pools returns the routing pools the policy names, sorted, each once.
func (p *Policy) Pools() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.Routing {
		if r.Pool != "" && !seen[r.Pool] {
			seen[r.Pool] = true
			out = append(out, r.Pool)
		}
	}
	sort.Strings(out)
	return out
}

// CheckPools reports, as an ErrorList, every routing rule whose pool is not
// in known (the directory's pools). The policy alone cannot know the
// directory, so this is a separate check for `starter policy check
// --directory` and worker start-up.
func (p *Policy) CheckPools(known map[string]bool) error {
	var errs ErrorList
	for i, r := range p.Routing {
		if r.Pool != "" && !known[r.Pool] {
			errs = append(errs, Error{
				File: p.name, Line: r.Line, Key: fmt.Sprintf("routing[%d].pool", i),
				Msg: fmt.Sprintf("unknown pool %q: not in the directory", r.Pool),
			})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
