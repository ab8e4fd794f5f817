package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
)

// policySource holds the policy the worker runs on. Running leads pick up a
// new version at their next event or timer (it is recorded in their history,
// so replays are unaffected). Once a version has been activated in Postgres
// (starter policy activate) that one is the policy, polled every few
// seconds; until then the file is, and SIGHUP reloads it.
type policySource struct {
	path string
	file atomic.Pointer[policy.Policy]
	db   atomic.Pointer[activated] // nil until an activation is seen
	log  *zap.Logger
	// Only the polling goroutine touches these: the last poll failed; the
	// activation that did not parse (logged once).
	down bool
	bad  int64
}

// activated is a version read from Postgres with its activation sequence.
type activated struct {
	p   *policy.Policy
	seq int64
}

func loadPolicySource(path string, log *zap.Logger) (*policySource, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	s := &policySource{path: path, log: log}
	s.file.Store(p)
	return s, nil
}

// Current implements workflows.PolicySource.
func (s *policySource) Current() *policy.Policy { p, _ := s.CurrentActivation(); return p }

// CurrentActivation implements workflows.ActivatedSource: the activated
// version and its sequence, or the file's policy and 0.
func (s *policySource) CurrentActivation() (*policy.Policy, int64) {
	if a := s.db.Load(); a != nil {
		return a.p, a.seq
	}
	return s.file.Load(), 0
}

// reload reads the file again; a bad file is logged and the running policy
// stays, so a typo never stops the worker.
func (s *policySource) reload() {
	p, err := policy.Load(s.path)
	if err != nil {
		s.log.Error("policy reload failed; keeping the running policy", zap.String("path", s.path),
			zap.String("running", s.Current().Version), zap.Error(err))
		return
	}
	old := s.file.Swap(p)
	if a := s.db.Load(); a != nil {
		s.log.Info("policy file reloaded; the activated version stays in force", zap.String("path", s.path),
			zap.String("file", p.Version), zap.String("running", a.p.Version), zap.Int64("activation", a.seq))
		return
	}
	s.log.Info("policy reloaded", zap.String("path", s.path), zap.String("from", old.Version), zap.String("to", p.Version))
}

// policyStore is what the source reads from Postgres.
type policyStore interface {
	Active(ctx context.Context) (store.ActivePolicy, bool, error)
	ReportWorker(ctx context.Context, w store.PolicyWorker) error
}

// poll reads the active version once, within timeout. A failure (Postgres
// down, a bad stored source) keeps the running policy.
func (s *policySource) poll(ctx context.Context, ps policyStore, worker string, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	act, ok, err := ps.Active(ctx)
	if err != nil {
		if !s.down {
			s.log.Warn("cannot read the active policy version; keeping the running policy", zap.String("running", s.Current().Version), zap.Error(err))
		}
		s.down = true
		return
	}
	if s.down {
		s.log.Info("reading the active policy version again")
		s.down = false
	}
	if ok {
		s.adopt(act)
	}
	p, seq := s.CurrentActivation()
	if err := ps.ReportWorker(ctx, store.PolicyWorker{Worker: worker, Version: p.Version, Digest: p.Digest, Seq: seq}); err != nil {
		s.log.Debug("cannot report this worker's policy", zap.Error(err))
	}
}

// adopt switches to an activation newer than the one running.
func (s *policySource) adopt(act store.ActivePolicy) {
	cur := s.db.Load()
	if cur != nil && act.Seq <= cur.seq || act.Seq == s.bad {
		return
	}
	p, err := policy.Parse("policy version "+act.Version, act.Source)
	if err != nil {
		s.bad = act.Seq
		s.log.Error("the activated policy version does not parse; keeping the running policy", zap.String("version", act.Version),
			zap.Int64("activation", act.Seq), zap.Error(err))
		return
	}
	from, _ := s.CurrentActivation()
	s.db.Store(&activated{p: p, seq: act.Seq})
	s.log.Info("policy activated", zap.String("from", from.Version), zap.String("to", p.Version), zap.Int64("activation", act.Seq), zap.String("kind", act.Kind))
}

// watch polls every interval until ctx ends.
func (s *policySource) watch(ctx context.Context, ps policyStore, worker string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.poll(ctx, ps, worker, min(every, 5*time.Second))
		}
	}
}

// workerIdentity names this process in policy_workers, as the Temporal SDK
// names a worker by default.
func workerIdentity() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%d@%s", os.Getpid(), host)
}
