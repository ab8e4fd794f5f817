package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/leadview"
)

// leadFlags are the flags every `lead` subcommand shares.
type leadFlags struct {
	json *bool
	url  *string
}

func addLeadFlags(fs *flag.FlagSet) leadFlags {
	return leadFlags{
		json: fs.Bool("json", false, "print the server's JSON (indented) instead of a summary"),
		url:  fs.String("url", "", "base `URL` of starter serve (default LEADFLOW_PUBLIC_URL)"),
	}
}

// leadArgs parses a lead subcommand's flags and its one lead ID.
func leadArgs(c *command, fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return "", err
	}
	if !lead.ValidLeadID(pos[0]) {
		return "", usagef(c, "%q is not a lead ID ([A-Za-z0-9._:-]{1,128})", pos[0])
	}
	return pos[0], nil
}

func (a *app) leadClient(f leadFlags) (*apiClient, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return a.newAPIClient(cfg, *f.url)
}

func cmdLeadShow(ctx context.Context, a *app, c *command, args []string) error {
	return a.leadQuery(ctx, c, args, "", func(raw json.RawMessage) error {
		var v lead.View
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		leadview.View(a.stdout, v, a.now())
		return nil
	})
}

func cmdLeadExplain(ctx context.Context, a *app, c *command, args []string) error {
	return a.leadQuery(ctx, c, args, "/explain", func(raw json.RawMessage) error {
		var x lead.Explanation
		if err := json.Unmarshal(raw, &x); err != nil {
			return err
		}
		leadview.Explanation(a.stdout, x)
		return nil
	})
}

func (a *app) leadQuery(ctx context.Context, c *command, args []string, suffix string, render func(json.RawMessage) error) error {
	fs := c.flagSet(a)
	f := addLeadFlags(fs)
	id, err := leadArgs(c, fs, args)
	if err != nil {
		return err
	}
	cl, err := a.leadClient(f)
	if err != nil {
		return err
	}
	raw, err := cl.getRaw(ctx, id, suffix)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return a.output(*f.json, raw, render)
}

// output prints raw as indented JSON, or through render.
func (a *app) output(asJSON bool, raw json.RawMessage, render func(json.RawMessage) error) error {
	if asJSON {
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return fmt.Errorf("server answer is not JSON: %w", err)
		}
		buf.WriteByte('\n')
		_, err := a.stdout.Write(buf.Bytes())
		return err
	}
	if err := render(raw); err != nil {
		return fmt.Errorf("decoding the server's answer: %w", err)
	}
	return nil
}

func cmdLeadAccept(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	f := addLeadFlags(fs)
	rep := fs.String("rep", "", "the rep accepting (must be the lead's owner) (required)")
	reqID := fs.String("id", "", "update id, for a safe retry (default: random)")
	id, err := leadArgs(c, fs, args)
	if err != nil {
		return err
	}
	req := lead.AcceptRequest{ID: orRandom(*reqID), RepID: *rep}
	if req.RepID == "" {
		return usagef(c, "--rep is required")
	}
	return a.leadUpdate(ctx, c, f, id, lead.UpdateAccept, req.ID, req, nil)
}

func cmdLeadReject(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	f := addLeadFlags(fs)
	rep := fs.String("rep", "", "the rep rejecting (must be the lead's owner) (required)")
	reason := fs.String("reason", "", "one of "+reasonNames()+" (required)")
	note := fs.String("note", "", "why (required for reason other)")
	dup := fs.String("duplicate-of", "", "lead ID to keep (required for reason duplicate)")
	revisit := fs.String("revisit-at", "", "RFC 3339 time to look at the lead again (e.g. for timing)")
	reqID := fs.String("id", "", "update id, for a safe retry (default: random)")
	id, err := leadArgs(c, fs, args)
	if err != nil {
		return err
	}
	req := lead.RejectRequest{
		ID: orRandom(*reqID), RepID: *rep, Reason: lead.Reason(*reason),
		Note: *note, DuplicateOf: *dup, RevisitAt: *revisit,
	}
	switch {
	case req.RepID == "":
		return usagef(c, "--rep is required")
	case req.Reason == "":
		return usagef(c, "--reason is required (one of %s)", reasonNames())
	}
	// The server checks these too; saying it here saves a round trip.
	if err := req.Check(id); err != nil {
		return usagef(c, "%v", err)
	}
	return a.leadUpdate(ctx, c, f, id, lead.UpdateReject, req.ID, req, nil)
}

func cmdLeadReassign(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	f := addLeadFlags(fs)
	owner := fs.String("owner", "", "the new owner's rep ID (required)")
	by := fs.String("by", "", "who is reassigning (required)")
	note := fs.String("note", "", "why")
	reqID := fs.String("id", "", "update id, for a safe retry (default: random)")
	from := fs.String("from", "", "bulk: move every open lead of this rep (with --to)")
	to := fs.String("to", "", "bulk: the rep who gets them")
	dryRun := fs.Bool("dry-run", false, "bulk: list what would move and change nothing")
	pos, err := parseArgs(c, fs, args, 0, 1)
	if err != nil {
		return err
	}
	if bulk, err := leadReassignBulk(c, pos, *from, *to, *owner, *reqID, *dryRun); bulk || err != nil {
		if err != nil {
			return err
		}
		return a.bulkReassign(ctx, c, *from, *to, *by, *note, *dryRun)
	}
	id, err := leadArgs(c, fs, pos)
	if err != nil {
		return err
	}
	req := lead.ReassignRequest{ID: orRandom(*reqID), OwnerID: *owner, By: *by, Note: *note}
	switch {
	case req.OwnerID == "":
		return usagef(c, "--owner is required")
	case req.By == "":
		return usagef(c, "--by is required")
	}
	return a.leadUpdate(ctx, c, f, id, lead.UpdateReassign, req.ID, req, nil)
}

// cmdLeadRetryEffects re-drives the lead's failed side effects (the
// retryEffects update: POST /v1/leads/{leadId}/retry-effects, the admin
// token) and prints the outbox afterwards. Nothing to retry is the
// workflow's refusal (422): its message, exit 1.
func cmdLeadRetryEffects(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	f := addLeadFlags(fs)
	by := fs.String("by", "", "who re-drives the effects (default: your user name)")
	reqID := fs.String("id", "", "update id, for a safe retry (default: random)")
	id, err := leadArgs(c, fs, args)
	if err != nil {
		return err
	}
	req := lead.RetryEffectsRequest{ID: orRandom(*reqID), By: strings.TrimSpace(*by)}
	if req.By == "" && a.user != nil {
		req.By = a.user()
	}
	if req.By == "" {
		return usagef(c, "--by is required (your user name could not be found)")
	}
	if err := req.Check(); err != nil {
		return usagef(c, "%v", err)
	}
	return a.leadUpdate(ctx, c, f, id, lead.UpdateRetryEffects, req.ID, req, func(v lead.View) {
		leadview.Effects(a.stdout, v, a.now())
	})
}

// leadUpdate posts the update and prints the resulting state (through
// render, when not nil). A refusal (422) prints the server's reason; a
// failure that may or may not have applied prints the id to retry with.
func (a *app) leadUpdate(ctx context.Context, c *command, f leadFlags, id, name, reqID string, req any, render func(lead.View)) error {
	cl, err := a.leadClient(f)
	if err != nil {
		return err
	}
	raw, err := cl.update(ctx, id, name, req)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) && he.Status == http.StatusUnprocessableEntity {
			fmt.Fprintf(a.stderr, "%s %s refused: %s\n", name, id, he.Message)
			return errReported
		}
		if st := statusOf(err); st == 0 || st >= 500 {
			fmt.Fprintf(a.stderr, "%s %s may not have applied; retry safely with --id %s\n", name, id, reqID)
		}
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return a.output(*f.json, raw, func(raw json.RawMessage) error {
		var v lead.View
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s %s: ok (update id %s)\n\n", name, id, reqID)
		if render != nil {
			render(v)
		} else {
			leadview.View(a.stdout, v, a.now())
		}
		return nil
	})
}

func orRandom(id string) string {
	if id != "" {
		return id
	}
	return newRequestID()
}

func reasonNames() string {
	s := make([]string, len(lead.Reasons))
	for i, r := range lead.Reasons {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
