package webui

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
)

// The inbox's reads of lead state. Each shown task's lead is asked its
// state (the workflow's state query: fresh, and the truth after an accept
// or reject) by a pool of InboxQueryConcurrency goroutines, each query
// bounded by inboxQueryTimeout and the page by stateTimeout. A lead whose
// query fails is read from the state it last published to Postgres
// (Config.States), shown as such; once one query of a page has failed for
// want of a worker or of Temporal, the rest of the page reads Postgres
// straight away, so a page without workers costs one query deadline, not
// one per lead. A page shows at most MaxInboxItems tasks (highest score at
// handoff, then soonest due); it says how many more there are.
const (
	InboxQueryConcurrency = 8
	MaxInboxItems         = 50
	inboxQueryTimeout     = 3 * time.Second
	stateTimeout          = 10 * time.Second
	publishedTimeout      = 2 * time.Second
	// openCheckTimeout bounds the check that a reject's duplicateOf is open.
	openCheckTimeout = 3 * time.Second
)

type kv struct{ Key, Value string }

type reasonOpt struct {
	Value, Label string
	Selected     bool
}

var reasonLabels = map[lead.Reason]string{
	lead.ReasonBadFit:     "Bad fit",
	lead.ReasonDuplicate:  "Duplicate (give the lead to keep)",
	lead.ReasonNoResponse: "No response",
	lead.ReasonTiming:     "Timing (give a revisit date)",
	lead.ReasonCompetitor: "Competitor",
	lead.ReasonOther:      "Other (add a note)",
}

// rejectForm is what a rep typed, kept when the form comes back refused.
type rejectForm struct {
	Reason, DuplicateOf, RevisitAt, Note string
}

type inboxItem struct {
	TaskID    string
	LeadID    string
	Title     string
	Stage     string
	OwnerID   string
	Score     int
	Fit       int
	Intent    int
	Breakdown []lead.ScoreItem
	DueAt     time.Time
	DueText   string
	Overdue   bool
	SLAKind   string
	WhyNow    string
	Trigger   string
	Timeline  []lead.TimelineItem
	Campaign  []kv
	Missing   []string
	StateErr  string
	// Stale: no worker answered; the state is the one the lead last
	// published, at PublishedAt.
	Stale       bool
	PublishedAt time.Time
	CanAct      bool
	// Fresh idempotency keys: a double-submitted form is one update.
	AcceptID, RejectID, TouchID string
	Reasons                     []reasonOpt
	Form                        rejectForm
	Error                       string // why the last action on this lead failed
	ErrorFor                    string // accept, reject or touch
	// Unavailable: the action failed for want of a worker, Temporal or
	// the database, not because it broke a rule; submitting the kept form
	// again (same request ID) is safe.
	Unavailable bool
}

type inboxPage struct {
	page
	Rep      string
	AskRep   bool // admin without ?rep=
	Items    []inboxItem
	Hidden   int    // open tasks beyond MaxInboxItems, not shown
	Stale    bool   // some items show a published, not live, state
	RepParam string // "?rep=…" for the forms' redirects (admin)
	// Notifications are the rep's recent notifications, newest first;
	// NotificationsErr: they could not be loaded.
	Notifications    []notificationRow
	NotificationsErr bool
}

// actionError is a failed action, shown next to its lead's form.
type actionError struct {
	leadID, what string // what: accept, reject or touch
	form         rejectForm
	msg          string
	// unavailable: not a refusal (503); the form keeps requestID, so a
	// resubmission is the same update, which Temporal applies at most once.
	unavailable bool
	requestID   string
}

// repFor is the inbox's rep: a rep token's own, or ?rep= for the admin.
func repFor(r *http.Request, p principal, given string) (string, int, string) {
	given = strings.TrimSpace(given)
	if p.Rep != "" {
		if given != "" && given != p.Rep {
			return "", http.StatusForbidden, "Your token is for rep " + p.Rep + ": you cannot see or act on another rep's leads."
		}
		return p.Rep, 0, ""
	}
	if given != "" && !repIDPattern.MatchString(given) {
		return "", http.StatusBadRequest, "rep must match [A-Za-z0-9._@-]{1,128}."
	}
	return given, 0, ""
}

func (u *UI) inbox(w http.ResponseWriter, r *http.Request, p principal) {
	rep, code, msg := repFor(r, p, r.URL.Query().Get("rep"))
	if code != 0 {
		u.fail(w, code, p, msg)
		return
	}
	pg := inboxPage{page: u.newPage("Inbox", "inbox", p), Rep: rep}
	if rep == "" {
		pg.AskRep = true
		u.render(w, http.StatusOK, "inbox", pg)
		return
	}
	q := r.URL.Query()
	if id := q.Get("lead"); lead.ValidLeadID(id) {
		switch q.Get("done") {
		case "accepted":
			pg.Status = "Accepted lead " + id + "."
		case "rejected":
			pg.Status = "Rejected lead " + id + "."
		case "touched":
			pg.Status = "Marked lead " + id + " touched; its task is done."
		}
	}
	u.renderInbox(w, r, http.StatusOK, pg, nil)
}

// renderInbox loads the rep's open tasks and renders them; the failed
// action's (ae, may be nil) lead shows its message next to its form,
// keeping what the rep typed.
func (u *UI) renderInbox(w http.ResponseWriter, r *http.Request, code int, pg inboxPage, ae *actionError) {
	errLead := ""
	if ae != nil {
		errLead = ae.leadID
	}
	items, hidden, err := u.loadInbox(r.Context(), pg.Rep, errLead)
	if err != nil {
		u.log.Warn("webui: inbox", zap.Error(err))
		msg := "The inbox could not be loaded; try again shortly."
		if ae != nil {
			msg = pg.Error + " " + msg
		}
		u.fail(w, http.StatusServiceUnavailable, pg.Who, msg)
		return
	}
	for i := range items {
		it := &items[i]
		it.Reasons = reasonOpts("")
		pg.Stale = pg.Stale || it.Stale
		if ae == nil || it.LeadID != ae.leadID {
			continue
		}
		it.Error, it.ErrorFor, it.Form, it.Unavailable = ae.msg, ae.what, ae.form, ae.unavailable
		it.Reasons = reasonOpts(ae.form.Reason)
		if ae.unavailable && ae.requestID != "" {
			switch ae.what {
			case "accept":
				it.AcceptID = ae.requestID
			case "reject":
				it.RejectID = ae.requestID
			case "touch":
				it.TouchID = ae.requestID
			}
		}
	}
	pg.Items, pg.Hidden = items, hidden
	var ok bool
	pg.Notifications, ok = u.recentNotifications(r.Context(), pg.Rep)
	pg.NotificationsErr = !ok
	if pg.Who.Rep == "" {
		pg.RepParam = pg.Rep
	}
	if ae != nil && ae.unavailable {
		w.Header().Set("Retry-After", "5")
	}
	u.render(w, code, "inbox", pg)
}

func reasonOpts(selected string) []reasonOpt {
	out := make([]reasonOpt, 0, len(lead.Reasons))
	for _, r := range lead.Reasons {
		out = append(out, reasonOpt{Value: string(r), Label: reasonLabels[r], Selected: string(r) == selected})
	}
	return out
}

// loadInbox is the rep's open tasks with each lead's state, ordered by
// score (highest first), then SLA deadline (soonest first, none last): at
// most MaxInboxItems of them, chosen by their handoff context's score and
// due time, always with keep's (the lead an action just failed on); hidden
// counts the rest.
func (u *UI) loadInbox(ctx context.Context, rep, keep string) (items []inboxItem, hidden int, err error) {
	tasks, err := u.cfg.Tasks.OpenTasks(ctx, rep)
	if err != nil {
		return nil, 0, err
	}
	if len(tasks) > MaxInboxItems {
		slices.SortStableFunc(tasks, func(a, b store.Task) int {
			if ka, kb := a.LeadID == keep, b.LeadID == keep; ka != kb {
				if ka {
					return -1
				}
				return 1
			}
			return byScoreThenDue(taskScore(a), taskScore(b), a.DueAt, b.DueAt, a.ID, b.ID)
		})
		hidden = len(tasks) - MaxInboxItems
		tasks = tasks[:MaxInboxItems]
	}
	now := u.cfg.Now()
	items = make([]inboxItem, len(tasks))
	qctx, cancel := context.WithTimeout(ctx, stateTimeout)
	defer cancel()
	var (
		next         atomic.Int64 // the next task to load
		skipTemporal atomic.Bool  // a query failed: the rest read Postgres
		wg           sync.WaitGroup
	)
	for range min(InboxQueryConcurrency, len(tasks)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tasks) {
					return
				}
				items[i] = u.item(qctx, tasks[i], now, &skipTemporal)
			}
		})
	}
	wg.Wait()
	slices.SortStableFunc(items, func(a, b inboxItem) int {
		return byScoreThenDue(a.Score, b.Score, a.DueAt, b.DueAt, a.TaskID, b.TaskID)
	})
	return items, hidden, nil
}

// byScoreThenDue orders by score (highest first), then due time (soonest
// first, none last), then ID.
func byScoreThenDue(sa, sb int, da, db time.Time, ia, ib string) int {
	if c := cmp.Compare(sb, sa); c != 0 {
		return c
	}
	switch {
	case da.IsZero() && !db.IsZero():
		return 1
	case !da.IsZero() && db.IsZero():
		return -1
	}
	if c := da.Compare(db); c != 0 {
		return c
	}
	return cmp.Compare(ia, ib)
}

func taskScore(t store.Task) int {
	if t.Context == nil {
		return 0
	}
	return t.Context.Score.Total
}

// item is one task with its lead's state: the live state query (bounded by
// inboxQueryTimeout) unless skipTemporal is set, else, or when it fails,
// the state the lead last published.
func (u *UI) item(ctx context.Context, t store.Task, now time.Time, skipTemporal *atomic.Bool) inboxItem {
	it := inboxItem{TaskID: t.ID, LeadID: t.LeadID, Title: t.Title, DueAt: t.DueAt,
		AcceptID: newID("ui-accept"), RejectID: newID("ui-reject"), TouchID: newID("ui-touch")}
	if c := t.Context; c != nil {
		it.WhyNow, it.Trigger, it.Timeline, it.Missing = c.WhyNow, c.Trigger, c.Timeline, c.Missing
		it.Score, it.Fit, it.Intent, it.Breakdown = c.Score.Total, c.Score.Fit, c.Score.Intent, c.Score.Breakdown
		it.Campaign = campaign(c)
	}
	var v lead.View
	var err error
	if skipTemporal.Load() {
		err = errSkipped
	} else {
		qctx, cancel := context.WithTimeout(ctx, inboxQueryTimeout)
		err = u.leads.Query(qctx, t.LeadID, lead.QueryState, &v)
		cancel()
	}
	switch {
	case errors.Is(err, api.ErrNotFound):
		it.StateErr = "leadflow has no such lead"
	case err != nil:
		if !errors.Is(err, errSkipped) {
			skipTemporal.Store(true)
			u.log.Warn("webui: lead state; the rest of the page reads the published states", zap.String("leadId", t.LeadID), zap.Error(err))
		}
		if u.published(ctx, t.LeadID, &v, &it) {
			it.fill(v)
		} else {
			it.StateErr = "state unavailable: no worker answered and the lead has no published state"
		}
	default:
		it.fill(v)
	}
	if !it.DueAt.IsZero() {
		d := it.DueAt.Sub(now)
		it.Overdue = d < 0
		if it.Overdue {
			it.DueText = "overdue by " + fmtDuration(-d)
		} else {
			it.DueText = "due in " + fmtDuration(d)
		}
	}
	return it
}

// errSkipped: the page already saw a state query fail.
var errSkipped = errors.New("skipped: an earlier state query of the page failed")

// published reads the lead's last published state into v, marking it the
// item's; false when there is none or no States.
func (u *UI) published(ctx context.Context, leadID string, v *lead.View, it *inboxItem) bool {
	if u.cfg.States == nil {
		return false
	}
	// Its own deadline: the page's may be spent by slow queries.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishedTimeout)
	defer cancel()
	pv, at, found, err := u.cfg.States.LastState(pctx, leadID)
	if err != nil {
		u.log.Warn("webui: published lead state", zap.String("leadId", leadID), zap.Error(err))
		return false
	}
	if !found {
		return false
	}
	*v = pv
	it.Stale, it.PublishedAt = true, at
	return true
}

// fill takes the lead's stage, owner, score and SLA from v.
func (it *inboxItem) fill(v lead.View) {
	it.Stage, it.OwnerID = string(v.Stage), v.OwnerID
	it.Score, it.Fit, it.Intent, it.Breakdown = v.Score.Total, v.Score.Fit, v.Score.Intent, v.Score.Breakdown
	if v.SLA != nil && !v.SLA.DueAt.IsZero() {
		it.DueAt, it.SLAKind = v.SLA.DueAt, v.SLA.Kind
	}
	it.CanAct = v.Stage == lead.StageHandoff
}

func campaign(c *actions.HandoffContext) []kv {
	keys := make([]string, 0, len(c.Campaign))
	for k := range c.Campaign {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		out = append(out, kv{k, c.Campaign[k]})
	}
	return out
}

// newID is a fresh request ID: the update ID of one click.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// action is the common part of the three POSTs: the form, the acting rep,
// the lead, and that the rep may act on it.
type action struct {
	rep, leadID, taskID, requestID string
	pg                             inboxPage
}

func (u *UI) begin(w http.ResponseWriter, r *http.Request, p principal, prefix string) (action, bool) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, http.StatusBadRequest, p, "The form could not be read.")
		return action{}, false
	}
	leadID := r.PathValue("leadId")
	if !lead.ValidLeadID(leadID) {
		u.fail(w, http.StatusBadRequest, p, "leadId must match [A-Za-z0-9._:-]{1,128}.")
		return action{}, false
	}
	rep, code, msg := repFor(r, p, r.PostForm.Get("rep"))
	if code != 0 {
		u.fail(w, code, p, msg)
		return action{}, false
	}
	if rep == "" {
		u.fail(w, http.StatusBadRequest, p, "Which rep is acting? The form needs rep.")
		return action{}, false
	}
	a := action{rep: rep, leadID: leadID, taskID: r.PostForm.Get("taskId"),
		requestID: r.PostForm.Get("requestId"),
		pg:        inboxPage{page: u.newPage("Inbox", "inbox", p), Rep: rep}}
	if !validRequestID(a.requestID, prefix) {
		a.requestID = newID(prefix)
	}
	if p.Rep != "" {
		ok, err := u.repHasLead(r.Context(), rep, leadID)
		if err != nil {
			u.log.Warn("webui: lead ownership", zap.Error(err))
			u.fail(w, http.StatusServiceUnavailable, p, "Could not check the lead's owner; try again shortly.")
			return action{}, false
		}
		if !ok {
			u.fail(w, http.StatusForbidden, p, "Lead "+leadID+" is not in your inbox.")
			return action{}, false
		}
	}
	return a, true
}

func validRequestID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || len(rest) != 24 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// repHasLead: the rep has an open task on the lead, or owns it now.
func (u *UI) repHasLead(ctx context.Context, rep, leadID string) (bool, error) {
	tasks, err := u.cfg.Tasks.Tasks(ctx, leadID)
	if err != nil {
		return false, err
	}
	for _, t := range tasks {
		if t.OwnerID == rep && t.CompletedAt.IsZero() {
			return true, nil
		}
	}
	var v lead.View
	if err := u.leads.Query(ctx, leadID, lead.QueryState, &v); err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return v.OwnerID == rep, nil
}

func (u *UI) done(w http.ResponseWriter, r *http.Request, a action, what string) {
	q := url.Values{"done": {what}, "lead": {a.leadID}}
	if a.pg.Who.Rep == "" {
		q.Set("rep", a.rep)
	}
	http.Redirect(w, r, "/ui/inbox?"+q.Encode(), http.StatusSeeOther)
}

// refused re-renders the inbox with the message next to the lead's form.
func (u *UI) refused(w http.ResponseWriter, r *http.Request, a action, code int, what string, form rejectForm, msg string) {
	a.pg.Error = "Could not " + what + " lead " + a.leadID + ": " + msg
	u.renderInbox(w, r, code, a.pg, &actionError{leadID: a.leadID, what: what, form: form, msg: msg})
}

// unavailable re-renders the inbox, 503, with why the action could not be
// done now; the lead's form keeps what the rep typed and its request ID.
func (u *UI) unavailable(w http.ResponseWriter, r *http.Request, a action, what string, form rejectForm, msg string) {
	a.pg.Error = "Could not " + what + " lead " + a.leadID + " now: " + msg
	u.renderInbox(w, r, http.StatusServiceUnavailable, a.pg,
		&actionError{leadID: a.leadID, what: what, form: form, msg: msg, unavailable: true, requestID: a.requestID})
}

// updateError maps the port's errors like the API does: *api.Refused is the
// workflow's refusal (422, its message); api.ErrNotFound 404; anything else
// is not the rep's doing (503): *api.Unavailable says why (no worker took
// the update in time, Temporal did not answer, the handler could not reach
// the directory), other errors are Temporal or the database being down.
func (u *UI) updateError(w http.ResponseWriter, r *http.Request, a action, what string, form rejectForm, err error) {
	if ref, ok := errors.AsType[*api.Refused](err); ok {
		u.refused(w, r, a, http.StatusUnprocessableEntity, what, form, ref.Message)
		return
	}
	if errors.Is(err, api.ErrNotFound) {
		u.refused(w, r, a, http.StatusNotFound, what, form, "leadflow has no such lead")
		return
	}
	u.log.Warn("webui: "+what, zap.String("leadId", a.leadID), zap.Error(err))
	msg := "leadflow could not reach Temporal or its database; try again shortly"
	if un, ok := errors.AsType[*api.Unavailable](err); ok && un.Message != "" {
		msg = un.Message
	}
	u.unavailable(w, r, a, what, form, msg)
}

func (u *UI) accept(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := u.begin(w, r, p, "ui-accept")
	if !ok {
		return
	}
	req := lead.AcceptRequest{ID: a.requestID, RepID: a.rep}
	if err := req.Check(); err != nil {
		u.refused(w, r, a, http.StatusUnprocessableEntity, "accept", rejectForm{}, err.Error())
		return
	}
	if _, err := u.leads.Update(r.Context(), a.leadID, lead.UpdateAccept, req.ID, req); err != nil {
		u.updateError(w, r, a, "accept", rejectForm{}, err)
		return
	}
	u.done(w, r, a, "accepted")
}

// revisitLayout is what <input type="datetime-local"> sends; the form says UTC.
const revisitLayout = "2006-01-02T15:04"

func (u *UI) reject(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := u.begin(w, r, p, "ui-reject")
	if !ok {
		return
	}
	f := r.PostForm
	form := rejectForm{Reason: f.Get("reason"), DuplicateOf: strings.TrimSpace(f.Get("duplicateOf")),
		RevisitAt: strings.TrimSpace(f.Get("revisitAt")), Note: strings.TrimSpace(f.Get("note"))}
	req := lead.RejectRequest{ID: a.requestID, RepID: a.rep, Reason: lead.Reason(form.Reason),
		Note: form.Note, DuplicateOf: form.DuplicateOf, RevisitAt: form.RevisitAt}
	if form.RevisitAt != "" {
		if t, err := time.ParseInLocation(revisitLayout, form.RevisitAt, time.UTC); err == nil {
			req.RevisitAt = t.Format(time.RFC3339)
		}
	}
	if err := req.Check(a.leadID); err != nil {
		u.refused(w, r, a, http.StatusUnprocessableEntity, "reject", form, err.Error())
		return
	}
	if !u.duplicateOfOpen(w, r, a, req, form) {
		return
	}
	if _, err := u.leads.Update(r.Context(), a.leadID, lead.UpdateReject, req.ID, req); err != nil {
		u.updateError(w, r, a, "reject", form, err)
		return
	}
	u.done(w, r, a, "rejected")
}

// duplicateOfOpen checks, as the API does, that a duplicate's duplicateOf
// is an open lead when the Leads port can tell (api.OpenLeads): otherwise
// the workflow would merge the lead into one that does not exist or has
// closed. It answers the request itself (422, or 503 when the check
// cannot be made) and returns false when the reject must not go on.
func (u *UI) duplicateOfOpen(w http.ResponseWriter, r *http.Request, a action, req lead.RejectRequest, form rejectForm) bool {
	ol, ok := u.leads.(api.OpenLeads)
	if req.Reason != lead.ReasonDuplicate || req.DuplicateOf == "" || !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(r.Context(), openCheckTimeout)
	defer cancel()
	open, err := ol.IsOpen(ctx, req.DuplicateOf)
	if err != nil {
		u.log.Warn("webui: duplicateOf check", zap.String("leadId", a.leadID), zap.String("duplicateOf", req.DuplicateOf), zap.Error(err))
		u.unavailable(w, r, a, "reject", form, "could not check that "+req.DuplicateOf+
			" is an open lead: Temporal did not answer; try again shortly")
		return false
	}
	if !open {
		u.refused(w, r, a, http.StatusUnprocessableEntity, "reject", form, "duplicate of "+req.DuplicateOf+
			": leadflow has no open lead "+req.DuplicateOf+" (it does not exist, or it was merged or closed); give the ID of the lead to keep")
		return false
	}
	return true
}

// touch records the rep's first touch: a rep.touch event delivered to the
// lead's workflow like POST /v1/events would (its ID is the form's request
// ID, so a resubmitted form is one event), then the task is completed.
func (u *UI) touch(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := u.begin(w, r, p, "ui-touch")
	if !ok {
		return
	}
	task, err := u.openTask(r.Context(), a)
	if err != nil {
		u.updateError(w, r, a, "touch", rejectForm{}, err)
		return
	}
	if task.ID == "" {
		u.refused(w, r, a, http.StatusUnprocessableEntity, "touch", rejectForm{},
			"task "+a.taskID+" is not an open task of "+a.rep+" on this lead")
		return
	}
	ev := lead.Event{ID: a.requestID, LeadID: a.leadID, Type: lead.EventRepTouch,
		OccurredAt: u.cfg.Now().UTC().Truncate(time.Second),
		Attributes: map[string]any{"repId": a.rep, "channel": "inbox"}}
	if errs := ev.Validate(); len(errs) > 0 {
		u.refused(w, r, a, http.StatusUnprocessableEntity, "touch", rejectForm{}, errs[0].Error())
		return
	}
	if err := u.leads.Deliver(r.Context(), a.leadID, ev); err != nil {
		u.updateError(w, r, a, "touch", rejectForm{}, err)
		return
	}
	if err := u.cfg.Tasks.CompleteTask(r.Context(), task.ID, a.rep); err != nil {
		u.log.Warn("webui: complete task", zap.String("taskId", task.ID), zap.Error(err))
		u.refused(w, r, a, http.StatusServiceUnavailable, "touch", rejectForm{},
			"the touch was recorded but the task could not be completed; try again")
		return
	}
	u.done(w, r, a, "touched")
}

// openTask finds the form's task among the lead's open tasks of the rep
// (zero Task when it is not there).
func (u *UI) openTask(ctx context.Context, a action) (store.Task, error) {
	tasks, err := u.cfg.Tasks.Tasks(ctx, a.leadID)
	if err != nil {
		return store.Task{}, err
	}
	for _, t := range tasks {
		if t.ID == a.taskID && t.OwnerID == a.rep && t.CompletedAt.IsZero() {
			return t, nil
		}
	}
	return store.Task{}, nil
}

func (u *UI) newPage(title, nav string, p principal) page {
	return page{Title: title, Nav: nav, Who: p, AuthOn: u.cfg.APIToken != ""}
}
