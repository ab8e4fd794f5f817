package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/lead"
)

// maxUpdateBytes bounds an accept/reject/reassign body; they are a few fields.
const maxUpdateBytes = 64 << 10

// pathLeadID returns the {leadId} path value, or answers 400 and "".
func pathLeadID(w http.ResponseWriter, r *http.Request) string {
	id := r.PathValue("leadId")
	if !lead.ValidLeadID(id) {
		writeError(w, http.StatusBadRequest, "leadId must match [A-Za-z0-9._:-]{1,128}")
		return ""
	}
	return id
}

// getState answers from the workflow's state query. When that fails (no
// worker answered within the query deadline, Temporal is down, or Temporal
// has no workflow) it asks Postgres for the last state the lead published:
//
//	query ok                                  200 the state
//	query fails, Postgres has a state         200 that state, "stale": true, "publishedAt"
//	Temporal: no workflow, Postgres: none     404
//	Temporal: no workflow, Postgres fails     503 (cannot tell whether the lead exists)
//	query fails, Postgres: none               503 with the query's reason
//	query fails, Postgres fails               503 naming both
//
// The query's deadline is temporalx's: LEADFLOW_UPDATE_TIMEOUT, at most 5 s.
func (s *Server) getState(w http.ResponseWriter, r *http.Request) {
	id := pathLeadID(w, r)
	if id == "" {
		return
	}
	var v lead.View
	qerr := s.leads.Query(r.Context(), id, lead.QueryState, &v)
	if qerr == nil {
		writeJSON(w, http.StatusOK, v)
		return
	}
	if s.cfg.States == nil {
		s.leadError(w, qerr, "query state")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), postgresTimeout)
	defer cancel()
	sv, at, found, serr := s.cfg.States.LastState(ctx, id)
	notFound := errors.Is(qerr, ErrNotFound)
	switch {
	case serr == nil && found:
		if !notFound {
			s.log.Warn("state query failed: serving the last published state", zap.Time("publishedAt", at), zap.Error(qerr))
		}
		sv.Stale, sv.PublishedAt = true, &at
		writeJSON(w, http.StatusOK, sv)
	case serr == nil && notFound:
		writeError(w, http.StatusNotFound, "no such lead")
	default:
		reason := "Temporal has no workflow for this lead"
		if !notFound {
			reason = "the state query failed: Temporal is unavailable"
			if u, ok := errors.AsType[*Unavailable](qerr); ok {
				reason = u.Message
			}
		}
		if serr == nil {
			s.log.Warn("state query failed and the lead has published no state", zap.Error(qerr))
			reason += "; the lead has published no state to fall back on"
		} else {
			s.log.Warn("state query and last published state both failed", zap.NamedError("query", qerr), zap.NamedError("postgres", serr))
			reason += "; and postgres did not answer for the last published state"
		}
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusServiceUnavailable, reason+"; retry later")
	}
}

func (s *Server) getExplain(w http.ResponseWriter, r *http.Request) {
	var x lead.Explanation
	s.query(w, r, lead.QueryExplain, &x)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request, name string, out any) {
	id := pathLeadID(w, r)
	if id == "" {
		return
	}
	if err := s.leads.Query(r.Context(), id, name, out); err != nil {
		s.leadError(w, err, "query "+name)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleUpdate serves one of the rep updates: decode req strictly, run its
// check (which yields the update ID), then the workflow update. The
// request's id is the update ID, so a rep's retried click is one update,
// not two. A check's lead.FieldError (a byte bound) is 400, its
// *Unavailable 503, any other error 422.
func handleUpdate[R any](s *Server, name string, check func(ctx context.Context, req R, leadID string) (updateID string, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := pathLeadID(w, r)
		if id == "" {
			return
		}
		var req R
		if msg, code := decodeStrict(w, r, &req); msg != "" {
			writeError(w, code, msg)
			return
		}
		updateID, err := check(r.Context(), req, id)
		if fe, ok := errors.AsType[lead.FieldError](err); ok {
			// A byte bound (lead.Max*): the request is malformed, not refused.
			writeJSON(w, http.StatusBadRequest, errorBody{Error: fe.Error(), Field: fe.Field})
			return
		}
		if _, ok := errors.AsType[*Unavailable](err); ok {
			s.leadError(w, err, "check "+name)
			return
		}
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		v, err := s.leads.Update(r.Context(), id, name, updateID, req)
		if err != nil {
			s.leadError(w, err, "update "+name)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// openCheckTimeout bounds the duplicateOf check of a reject.
var openCheckTimeout = 3 * time.Second

// checkReject is the reject request's static check, then, for a duplicate,
// that duplicateOf names an open lead (one describe of lead/<duplicateOf>,
// with a deadline): otherwise the workflow would merge this lead into one
// that does not exist or has closed, and forward its events into nothing.
func (s *Server) checkReject(ctx context.Context, q lead.RejectRequest, leadID string) (string, error) {
	if err := q.Check(leadID); err != nil {
		return "", err
	}
	ol, ok := s.leads.(OpenLeads)
	if q.Reason != lead.ReasonDuplicate || q.DuplicateOf == "" || !ok {
		return q.ID, nil
	}
	ctx, cancel := context.WithTimeout(ctx, openCheckTimeout)
	defer cancel()
	open, err := ol.IsOpen(ctx, q.DuplicateOf)
	if err != nil {
		return "", &Unavailable{Err: err, Message: fmt.Sprintf("could not check that duplicateOf %s is an open lead: Temporal did not answer; retry later", q.DuplicateOf)}
	}
	if !open {
		return "", fmt.Errorf("duplicateOf %s is not an open lead", q.DuplicateOf)
	}
	return q.ID, nil
}

// leadError maps the Leads port's errors to HTTP:
//
//	*Refused                        422, its message: the update's validator refused it, or
//	                                the handler found a rule broken (nothing applied)
//	ErrNotFound                     404 "no such lead"
//	*Unavailable                    503 + Retry-After, its message: no worker took the update
//	                                (or answered the query) in time, Temporal did not answer,
//	                                or the handler's dependency was down (lead.ErrTypeUnavailable)
//	anything else                   503 + Retry-After: Temporal is unavailable
//
// 422 is never a timeout or an outage: a client may show it to the rep as is.
func (s *Server) leadError(w http.ResponseWriter, err error, what string) {
	if ref, ok := errors.AsType[*Refused](err); ok {
		writeError(w, http.StatusUnprocessableEntity, ref.Message)
		return
	}
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such lead")
		return
	}
	s.log.Warn("lead "+what+" failed", zap.Error(err))
	w.Header().Set("Retry-After", retryAfter)
	if u, ok := errors.AsType[*Unavailable](err); ok {
		writeError(w, http.StatusServiceUnavailable, u.Message)
		return
	}
	writeError(w, http.StatusServiceUnavailable, what+" failed: Temporal is unavailable; retry later")
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data. It returns a message and status for the caller, or "".
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) (string, int) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return fmt.Sprintf("body is over %d bytes", maxUpdateBytes), http.StatusRequestEntityTooLarge
		}
		return "reading body: " + err.Error(), http.StatusBadRequest
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return "body must be a JSON object", http.StatusBadRequest
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			if te.Field == "" {
				return "body must be a JSON object", http.StatusBadRequest
			}
			return fmt.Sprintf("%s must be %s", te.Field, jsonKind(te.Type)), http.StatusBadRequest
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return "unknown field " + f, http.StatusBadRequest
		}
		return "malformed JSON: " + err.Error(), http.StatusBadRequest
	}
	if _, err := dec.Token(); err != io.EOF {
		return "unexpected data after the JSON object", http.StatusBadRequest
	}
	return "", 0
}
