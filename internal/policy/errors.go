package policy

import (
	"fmt"
	"strings"
)

// Error is one problem with a policy file, located so that RevOps can fix it
// without reading Go: "policy.yaml:42: sla.ladder[1].at: fractions must ascend".
type Error struct {
	File string // the name given to Parse, or the path given to Load
	Line int    // 1-based; 0 when the problem has no single place
	Key  string // dotted path of the key, e.g. "plays.timing.cool_off"
	Msg  string
}

func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a policy file, in file order; a file is
// checked to the end so that one run reports everything to fix.
type ErrorList []Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}
