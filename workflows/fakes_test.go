package workflows

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/suppression"
)

// fakes are in-memory test doubles of every activity, idempotent by key as
// the real adapters must be, recording what the workflow asked for.
type fakes struct {
	mu        sync.Mutex
	dir       *directory.Directory
	cursors   map[string]int64
	load      map[string]int
	routes    map[string]routing.Decision
	seen      map[string]bool // keys already applied
	assigns   []actions.AssignOwnerInput
	tasks     []actions.TaskInput
	closes    []actions.CloseTaskInput
	notes     []actions.NoteInput
	notifies  []actions.NotifyInput
	alerts    []actions.AlertInput
	stages    []actions.StageInput
	enrolls   []actions.EnrollInput
	pauses    []actions.PauseInput
	sends     []actions.SendInput
	sendTimes []time.Time
	stops     []actions.StopInput
	ledger    []actions.LedgerEntry
	forwards  []actions.ForwardInput
	failures  map[string]int       // activity name → failures left to inject
	outages   map[string]time.Time // activity name → failing (retryably) until then
	refusals  map[string]int       // activity name → non-retryable refusals left (a 4xx)
	calls     []string             // "<activity> <key>" of every successful call, in order
	now       func() time.Time
}

func newFakes(dir *directory.Directory) *fakes {
	return &fakes{dir: dir, cursors: map[string]int64{}, load: map[string]int{}, routes: map[string]routing.Decision{},
		seen: map[string]bool{}, failures: map[string]int{}, outages: map[string]time.Time{}, refusals: map[string]int{}, now: time.Now}
}

// registry is what both a worker and the test environment offer.
type registry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// bind registers implementations bound through the typed references, as
// activities/ does.
func bind(env registry, bs ...actions.Binding) {
	for _, b := range bs {
		env.RegisterActivityWithOptions(b.Fn, activity.RegisterOptions{Name: b.Name})
	}
}

func (f *fakes) register(env registry) {
	bind(env,
		actions.Directory.Route.Bind(f.Route),
		actions.CRM.AssignOwner.Bind(f.AssignOwner),
		actions.CRM.CreateTask.Bind(f.CreateTask),
		actions.CRM.CloseTask.Bind(f.CloseTask),
		actions.CRM.PostNote.Bind(f.PostNote),
		actions.CRM.Notify.Bind(f.Notify),
		actions.CRM.RaiseAlert.Bind(f.RaiseAlert),
		actions.CRM.SetLifecycleStage.Bind(f.SetLifecycleStage),
		actions.Nurture.Enroll.Bind(f.Enroll),
		actions.Nurture.Pause.Bind(f.Pause),
		actions.Nurture.Send.Bind(f.Send),
		actions.Nurture.Stop.Bind(f.Stop),
		actions.Ledger.Record.Bind(f.Record),
		actions.Leads.ForwardEvents.Bind(f.Forward),
	)
}

// first reports whether key is new, and marks it seen.
func (f *fakes) first(key string) bool {
	if f.seen[key] {
		return false
	}
	f.seen[key] = true
	return true
}

func (f *fakes) fail(name string) error {
	if f.failures[name] > 0 {
		f.failures[name]--
		return errors.New("injected failure of " + name)
	}
	if until, ok := f.outages[name]; ok && f.now().Before(until) {
		return errors.New("injected outage of " + name)
	}
	if f.refusals[name] > 0 {
		f.refusals[name]--
		return temporal.NewNonRetryableApplicationError("injected refusal of "+name+": 400 bad request", actions.ErrInvalidInput, nil)
	}
	return nil
}

// down makes an activity fail (retryably) until the given virtual time.
func (f *fakes) down(name string, until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outages[name] = until
}

// called records a successful call; every fake calls it under f.mu.
func (f *fakes) called(name, key string) { f.calls = append(f.calls, name+" "+key) }

// order returns the position of the first call of name whose key contains
// sub, or -1.
func (f *fakes) order(name, sub string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.calls {
		if strings.HasPrefix(c, name+" ") && strings.Contains(c, sub) {
			return i
		}
	}
	return -1
}

func (f *fakes) Route(_ context.Context, in actions.RouteInput) (routing.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.Route); err != nil {
		return routing.Decision{}, err
	}
	if d, ok := f.routes[in.Key]; ok {
		return d, nil
	}
	d, err := routing.Decide(routing.Request{LeadID: in.LeadID, Domain: in.Domain, Rules: in.Rules, Exclude: in.Exclude,
		At: in.At, ForceOwner: in.ForceOwner, FallbackOnly: in.FallbackOnly, PreferOwner: in.PreferOwner},
		routing.Snapshot{Dir: f.dir, Load: f.load, Cursors: f.cursors})
	if errors.Is(err, routing.ErrUnknownRep) {
		return d, temporal.NewNonRetryableApplicationError(err.Error(), actions.ErrUnknownRep, nil)
	}
	if errors.Is(err, routing.ErrNoOwner) { // as activities.classify does
		return d, temporal.NewNonRetryableApplicationError(err.Error(), actions.ErrInvalidInput, nil)
	}
	if err != nil {
		return d, err
	}
	if d.Pool != "" {
		f.cursors[d.Pool] = d.NextCursor
	}
	f.load[d.OwnerID]++
	f.routes[in.Key] = d
	return d, nil
}

func (f *fakes) AssignOwner(_ context.Context, in actions.AssignOwnerInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.AssignOwner); err != nil {
		return err
	}
	f.called(actions.AssignOwner, in.Key)
	if f.first("assign/" + in.Key) {
		f.assigns = append(f.assigns, in)
	}
	return nil
}

func (f *fakes) CreateTask(_ context.Context, in actions.TaskInput) (actions.TaskRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.CreateTask); err != nil {
		return actions.TaskRef{}, err
	}
	f.called(actions.CreateTask, in.Key)
	if f.first("task/" + in.Key) {
		f.tasks = append(f.tasks, in)
	}
	return actions.TaskRef{TaskID: "task:" + in.Key}, nil
}

// CloseTask closes a task the fake created, once; closing a task never
// created is the workflow's bug, refused as the built-in CRM does.
func (f *fakes) CloseTask(_ context.Context, in actions.CloseTaskInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.CloseTask); err != nil {
		return err
	}
	if !f.seen["task/"+in.TaskKey] {
		return temporal.NewNonRetryableApplicationError("close task "+in.TaskKey+": no such task", actions.ErrInvalidInput, nil)
	}
	f.called(actions.CloseTask, in.Key)
	if f.first("close/" + in.TaskKey) {
		f.closes = append(f.closes, in)
	}
	return nil
}

func (f *fakes) PostNote(_ context.Context, in actions.NoteInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.PostNote); err != nil {
		return err
	}
	f.called(actions.PostNote, in.Key)
	if f.first("note/" + in.Key) {
		f.notes = append(f.notes, in)
	}
	return nil
}

func (f *fakes) Notify(_ context.Context, in actions.NotifyInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.NotifyManager); err != nil {
		return err
	}
	f.called(actions.NotifyManager, in.Key)
	if f.first("notify/" + in.Key) {
		f.notifies = append(f.notifies, in)
	}
	return nil
}

func (f *fakes) RaiseAlert(_ context.Context, in actions.AlertInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first("alert/" + in.Key) {
		f.alerts = append(f.alerts, in)
	}
	return nil
}

func (f *fakes) SetLifecycleStage(_ context.Context, in actions.StageInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.SetLifecycleStage); err != nil {
		return err
	}
	f.called(actions.SetLifecycleStage, in.Key)
	if f.first("stage/" + in.Key) {
		f.stages = append(f.stages, in)
	}
	return nil
}

func (f *fakes) Enroll(_ context.Context, in actions.EnrollInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.NurtureEnroll); err != nil {
		return err
	}
	f.called(actions.NurtureEnroll, in.Key)
	if f.first("enroll/" + in.Key) {
		f.enrolls = append(f.enrolls, in)
	}
	return nil
}

func (f *fakes) Pause(_ context.Context, in actions.PauseInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.NurturePause); err != nil {
		return err
	}
	f.called(actions.NurturePause, in.Key)
	if f.first("pause/" + in.Key) {
		f.pauses = append(f.pauses, in)
	}
	return nil
}

// Send re-checks the guard as the real adapter does, against what it has
// recorded, then records the send.
func (f *fakes) Send(_ context.Context, in actions.SendInput) (actions.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// As activities.NurtureSend: the enrollment the touch carries first.
	if e := in.Enroll; e != nil {
		if err := f.fail(actions.NurtureEnroll); err != nil {
			return actions.SendResult{}, err
		}
		f.called(actions.NurtureEnroll, e.Key)
		if f.first("enroll/" + e.Key) {
			f.enrolls = append(f.enrolls, *e)
		}
	}
	if err := f.fail(actions.NurtureSend); err != nil {
		return actions.SendResult{}, err
	}
	f.called(actions.NurtureSend, in.Key)
	if f.seen["send/"+in.Key] {
		return actions.SendResult{Sent: true}, nil
	}
	loc, _ := time.LoadLocation(in.Timezone)
	now := f.now()
	unsub := false
	for _, s := range f.stops {
		if s.LeadID == in.LeadID && (s.Reason == "unsubscribed" || s.Reason == "bounced") {
			unsub = true
		}
	}
	g := suppression.Check(in.Rules, loc, suppression.Input{Stage: in.Stage, Now: now, Unsubscribed: unsub, LastRepTouch: in.LastRepTouch, Sends: f.sendTimes})
	if !g.Allowed {
		return actions.SendResult{Reasons: g.Reasons}, nil
	}
	f.seen["send/"+in.Key] = true
	f.sends = append(f.sends, in)
	f.sendTimes = append(f.sendTimes, now)
	return actions.SendResult{Sent: true}, nil
}

func (f *fakes) Stop(_ context.Context, in actions.StopInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called(actions.NurtureStop, in.Key)
	if f.first("stop/" + in.Key) {
		f.stops = append(f.stops, in)
	}
	return nil
}

func (f *fakes) Record(_ context.Context, in actions.RecordInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.Record); err != nil {
		return err
	}
	for _, e := range in.Entries {
		if f.first("ledger/" + e.Key) {
			f.ledger = append(f.ledger, e)
		}
	}
	return nil
}

func (f *fakes) Forward(_ context.Context, in actions.ForwardInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(actions.ForwardEvents); err != nil {
		return err
	}
	f.called(actions.ForwardEvents, in.Key)
	if f.first("forward/" + in.Key) {
		f.forwards = append(f.forwards, in)
	}
	return nil
}

// ledgerKinds counts ledger entries by kind.
func (f *fakes) ledgerKinds() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for _, e := range f.ledger {
		m[e.Kind]++
	}
	return m
}

func (f *fakes) taskKinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.tasks {
		out = append(out, t.Kind+":"+t.OwnerID)
	}
	return out
}

func (f *fakes) notifyKinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.notifies {
		out = append(out, n.Kind+":"+n.To)
	}
	return out
}

func (f *fakes) alertKinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, a := range f.alerts {
		out = append(out, a.Kind)
	}
	sort.Strings(out)
	return out
}

// staticPolicy is a PolicySource that always gives one policy.
type staticPolicy struct{ p *policy.Policy }

func (s staticPolicy) Current() *policy.Policy { return s.p }

func mustPolicy(src string) *policy.Policy {
	p, err := policy.Parse("test-policy.yaml", []byte(src))
	if err != nil {
		panic(fmt.Sprintf("test policy: %v", err))
	}
	return p
}
