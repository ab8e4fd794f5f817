package policy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
)

// Vars are the variables a condition can read (see the policy file's header).
type Vars struct {
	Event   map[string]any   // type, attributes, occurredAt, source, id
	Lead    map[string]any   // profile fields that are set
	Counts  map[string]int64 // events of each type in the current cycle
	Segment string
	Trigger string // the scoring rule that caused the handoff
}

func (v Vars) activation() map[string]any {
	orEmpty := func(m map[string]any) map[string]any {
		if m == nil {
			return map[string]any{}
		}
		return m
	}
	counts := v.Counts
	if counts == nil {
		counts = map[string]int64{}
	}
	return map[string]any{
		"event":   orEmpty(v.Event),
		"lead":    orEmpty(v.Lead),
		"counts":  counts,
		"segment": v.Segment,
		"trigger": v.Trigger,
	}
}

// Cond is a compiled CEL condition. A nil *Cond always matches.
type Cond struct {
	Expr string
	prg  cel.Program
	// LeadFields are the profile fields (keys of `lead`) the expression
	// reads, in order of first use: a rule whose fields the lead lacks
	// cannot be judged.
	LeadFields []string
}

var leadField = regexp.MustCompile(`\blead(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*"([^"]+)"\s*\])`)

// leadFields lists the `lead.x` and `lead["x"]` references of expr.
func leadFields(expr string) []string {
	var out []string
	for _, m := range leadField.FindAllStringSubmatch(expr, -1) {
		f := m[1] + m[2]
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

var celEnv = mustEnv()

func mustEnv() *cel.Env {
	env, err := cel.NewEnv(
		ext.Strings(),
		cel.CrossTypeNumericComparisons(true),
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("lead", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("counts", cel.MapType(cel.StringType, cel.IntType)),
		cel.Variable("segment", cel.StringType),
		cel.Variable("trigger", cel.StringType),
	)
	if err != nil {
		panic(fmt.Sprintf("policy: CEL environment: %v", err))
	}
	return env
}

// Compile type-checks expr against the declared variables and returns a
// condition that must evaluate to a bool.
func Compile(expr string) (*Cond, error) {
	ast, iss := celEnv.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, errors.New(strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("must be a boolean expression, is %s", ast.OutputType())
	}
	prg, err := celEnv.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err
	}
	return &Cond{Expr: expr, prg: prg, LeadFields: leadFields(expr)}, nil
}

// MustCompile is Compile for tests and constants; it panics on error.
func MustCompile(expr string) *Cond {
	c, err := Compile(expr)
	if err != nil {
		panic(fmt.Sprintf("compile %q: %v", expr, err))
	}
	return c
}

// Match evaluates the condition. A missing map key (a profile field the lead
// does not have, an attribute the event lacks) counts as no match, not an
// error; other evaluation errors are returned.
func (c *Cond) Match(v Vars) (bool, error) {
	if c == nil || c.prg == nil {
		return true, nil
	}
	out, _, err := c.prg.Eval(v.activation())
	if err != nil {
		if isMissingKey(err) {
			return false, nil
		}
		return false, fmt.Errorf("evaluate %q: %w", c.Expr, err)
	}
	if types.IsError(out) {
		return false, fmt.Errorf("evaluate %q: %v", c.Expr, out)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluate %q: result is %T, not bool", c.Expr, out.Value())
	}
	return b, nil
}

func isMissingKey(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such key") || strings.Contains(s, "no such attribute")
}
