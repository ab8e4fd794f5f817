package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// ActivatedSource is a PolicySource that also knows the activation its
// policy came from (store.PolicyActivation.Seq; 0: the worker's own file).
// A source that is only a PolicySource counts as activation 0.
type ActivatedSource interface {
	CurrentActivation() (*policy.Policy, int64)
}

// PolicyRef is the policy a lead decides under, as its history records it
// (the "policy" mutable side effect) and as State carries it across
// Continue-As-New: with the source, so a new run can keep a version that
// the worker it lands on no longer offers.
type PolicyRef struct {
	Version string `json:"version"`
	Digest  string `json:"digest"`
	Source  string `json:"source"`
	// Seq is the activation the version came from; 0 for a worker's file.
	Seq int64 `json:"seq,omitempty"`
}

func (p PolicyRef) same(o PolicyRef) bool { return p.Digest == o.Digest && p.Seq == o.Seq }

// offeredPolicy is what the worker runs now.
func offeredPolicy(src PolicySource) PolicyRef {
	var p *policy.Policy
	var seq int64
	if a, ok := src.(ActivatedSource); ok {
		p, seq = a.CurrentActivation()
	} else {
		p = src.Current()
	}
	return PolicyRef{Version: p.Version, Digest: p.Digest, Source: string(p.Source), Seq: seq}
}

// newerPolicy is the policy a lead moves to: the worker's when it comes
// from a later activation, the lead's own when the worker's is older (a
// worker that has not caught up, or still runs its file, never moves a lead
// back). Among file policies (both 0, nothing activated yet) the worker's
// wins, as a SIGHUP reload always did.
func newerPolicy(held *PolicyRef, offered PolicyRef) PolicyRef {
	switch {
	case held == nil:
		return offered
	case offered.Seq > held.Seq:
		return offered
	case offered.Seq == 0 && held.Seq == 0:
		return offered
	default:
		return *held
	}
}

// notePolicySwitch records a lead's move to another policy version: in its
// stage history (explain) and as a ledger fact. Decisions already taken
// stand; the next ones are the new version's.
func (r *run) notePolicySwitch(from string, to PolicyRef) {
	why := fmt.Sprintf("policy %s → %s", from, to.Version)
	if to.Seq > 0 {
		why += fmt.Sprintf(" (activation %d)", to.Seq)
	} else {
		why += " (worker's policy file)"
	}
	r.addHistory(lead.Transition{At: workflow.Now(r.ctx), From: r.s.Stage, To: r.s.Stage, Why: why})
	r.s.Seq++
	r.ledger(actions.LedgerEntry{Key: r.key("policy", r.s.Seq, to.Version), Kind: actions.LedgerPolicy, Why: why,
		Data: map[string]any{"from": from, "to": to.Version, "digest": to.Digest, "activation": to.Seq}})
}
