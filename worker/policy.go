package main

import (
	"fmt"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/policy"
)

// policySource holds the policy the worker runs on. Running leads pick up a
// new version at their next event or timer (it is recorded in their history,
// so replays are unaffected); SIGHUP reloads the file without a restart.
type policySource struct {
	path string
	cur  atomic.Pointer[policy.Policy]
	log  *zap.Logger
}

func loadPolicySource(path string, log *zap.Logger) (*policySource, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	s := &policySource{path: path, log: log}
	s.cur.Store(p)
	return s, nil
}

// Current implements workflows.PolicySource.
func (s *policySource) Current() *policy.Policy { return s.cur.Load() }

// reload reads the file again; a bad file is logged and the running policy
// stays, so a typo never stops the worker.
func (s *policySource) reload() {
	p, err := policy.Load(s.path)
	if err != nil {
		s.log.Error("policy reload failed; keeping the running policy", zap.String("path", s.path),
			zap.String("running", s.Current().Version), zap.Error(err))
		return
	}
	old := s.cur.Swap(p)
	s.log.Info("policy reloaded", zap.String("path", s.path), zap.String("from", old.Version), zap.String("to", p.Version))
}
