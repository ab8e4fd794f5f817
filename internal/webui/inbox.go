package webui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
)

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

type inboxPage struct {
	page
	Rep      string
	AskRep   bool // admin without ?rep=
	Lists    inboxLists
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
			pg.Status = "Marked lead " + id + " touched; it stays here until you accept or reject it."
		}
	}
	u.renderInbox(w, r, http.StatusOK, pg, nil)
}

// renderInbox loads the rep's lists and renders them; the failed action's
// (ae, may be nil) lead shows its message next to its form, keeping what
// the rep typed.
func (u *UI) renderInbox(w http.ResponseWriter, r *http.Request, code int, pg inboxPage, ae *actionError) {
	lists, err := u.loadLists(r.Context(), pg.Rep)
	if err != nil {
		u.log.Warn("webui: inbox", zap.Error(err))
		msg := "The inbox could not be loaded; try again shortly."
		if ae != nil {
			msg = pg.Error + " " + msg
		}
		u.fail(w, http.StatusServiceUnavailable, pg.Who, msg)
		return
	}
	for _, it := range lists.all() {
		it.Reasons = reasonOpts("")
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
	pg.Lists = lists
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

// newID is a fresh request ID: the update ID of one click.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// action is the common part of the three POSTs: the form, the acting rep,
// the lead, and that the rep may act on it.
type action struct {
	rep, leadID, requestID string
	pg                     inboxPage
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
	a := action{rep: rep, leadID: leadID,
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
// ID, so a resubmitted form is one event). The lead stays in the inbox,
// marked touched, until it is accepted or rejected; its task stays open.
// A lead that is not the rep's handoff is refused; one already touched is
// not touched again.
func (u *UI) touch(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := u.begin(w, r, p, "ui-touch")
	if !ok {
		return
	}
	var v lead.View
	switch err := u.leads.Query(r.Context(), a.leadID, lead.QueryState, &v); {
	case errors.Is(err, api.ErrNotFound):
		u.updateError(w, r, a, "touch", rejectForm{}, err)
		return
	case err != nil:
		// No worker to ask: the event still reaches the workflow, which
		// ignores a touch that breaks its rules.
		u.log.Info("webui: touch without the lead's state", zap.String("leadId", a.leadID), zap.Error(err))
	case v.Stage != lead.StageHandoff || v.OwnerID != a.rep:
		u.refused(w, r, a, http.StatusUnprocessableEntity, "touch", rejectForm{},
			"lead "+a.leadID+" is not an open handoff of "+a.rep+" (stage "+string(v.Stage)+", owner "+v.OwnerID+")")
		return
	case v.FirstTouchAt != nil:
		u.done(w, r, a, "touched")
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
	u.done(w, r, a, "touched")
}

func (u *UI) newPage(title, nav string, p principal) page {
	return page{Title: title, Nav: nav, Who: p, AuthOn: u.cfg.APIToken != ""}
}
