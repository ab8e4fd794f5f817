package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/store"
)

const repTokenDetail = `
REP: mint a web UI token that opens only REP's inbox, valid for --ttl
(default 30d, at most 366d; e.g. 12h, 90d). It is printed once, on stdout;
only a hash of its secret is kept. Sign in at /ui/login with it.
list [REP]: every token (or REP's): ID, rep, created, expires, revoked,
last used. Never the secret.
revoke ID: revoke one token; its sign-ins end on their next request.
Tokens do not depend on LEADFLOW_API_TOKEN: rotating that leaves them valid.
Exits 2 for an unknown rep or token ID.`

// cmdRepToken is `rep token REP`, `rep token list [REP]` and `rep token
// revoke ID` (one command: the dispatcher knows two-word commands).
func cmdRepToken(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	ttlText := fs.String("ttl", "30d", "how long the new token is valid: whole days (30d) or a duration (12h), at most 366d")
	pos, err := parseArgs(c, fs, args, 1, 2)
	if err != nil {
		return err
	}
	ttlSet := false
	fs.Visit(func(f *flag.Flag) { ttlSet = ttlSet || f.Name == "ttl" })
	verb := pos[0]
	switch {
	case verb == "list" && !ttlSet:
	case verb == "revoke" && !ttlSet && len(pos) == 2:
	case verb == "revoke" && len(pos) != 2:
		return usagef(c, "revoke needs the token ID (see starter rep token list)")
	case verb == "list" || verb == "revoke":
		return usagef(c, "--ttl is only for minting a token")
	case len(pos) != 1:
		return usagef(c, "unexpected argument %q", pos[1])
	}
	var ttl time.Duration
	if verb != "list" && verb != "revoke" {
		if ttl, err = auth.ParseTTL(*ttlText); err != nil {
			return usagef(c, "--ttl: %v", err)
		}
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("rep token: %w", err)
	}
	defer st.Close()
	svc, err := auth.New(st.Auth(), auth.Config{AdminToken: cfg.APIToken, Now: a.now})
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		rep := ""
		if len(pos) == 2 {
			rep = pos[1]
		}
		return a.listRepTokens(ctx, svc, rep)
	case "revoke":
		return a.revokeRepToken(ctx, c, svc, pos[1])
	}
	tok, row, err := svc.MintRepToken(ctx, verb, ttl)
	if errors.Is(err, store.ErrUnknownRep) {
		d, derr := st.Directory().Directory(ctx)
		if derr != nil {
			return fmt.Errorf("rep token %s: %w", verb, derr)
		}
		return unknownRep(c, verb, d)
	}
	if err != nil {
		return fmt.Errorf("rep token %s: %w", verb, err)
	}
	// The token alone on stdout, so it can be piped; the rest is for the operator.
	fmt.Fprintln(a.stdout, tok)
	fmt.Fprintf(a.stderr, "token %s for %s, expires %s; shown once, not stored. Revoke it with: starter rep token revoke %s\n",
		row.ID, row.RepID, row.ExpiresAt.Format(time.RFC3339), row.ID)
	if cfg.APIToken == "" {
		fmt.Fprintln(a.stderr, "note: LEADFLOW_API_TOKEN is not set, so the UI is open and checks no token until it is")
	}
	return nil
}

func (a *app) listRepTokens(ctx context.Context, svc *auth.Service, rep string) error {
	rows, err := svc.RepTokens(ctx, rep)
	if err != nil {
		return fmt.Errorf("rep token list: %w", err)
	}
	if len(rows) == 0 {
		if rep == "" {
			fmt.Fprintln(a.stdout, "no rep tokens")
		} else {
			fmt.Fprintf(a.stdout, "no tokens of %s\n", rep)
		}
		return nil
	}
	now := a.now()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREP\tCREATED\tEXPIRES\tREVOKED\tLAST USED")
	for _, t := range rows {
		expires := stamp(t.ExpiresAt)
		if !now.Before(t.ExpiresAt) {
			expires += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.RepID, stamp(t.CreatedAt), expires, stampOr(t.RevokedAt), stampOr(t.LastUsedAt))
	}
	return tw.Flush()
}

func (a *app) revokeRepToken(ctx context.Context, c *command, svc *auth.Service, id string) error {
	if !auth.ValidTokenID(id) {
		return usagef(c, "%q is not a token ID (16 hex digits, as starter rep token list shows)", id)
	}
	before := a.now()
	t, err := svc.RevokeRepToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return usagef(c, "unknown token ID %s (see starter rep token list)", id)
	}
	if err != nil {
		return fmt.Errorf("rep token revoke %s: %w", id, err)
	}
	if t.RevokedAt.Before(before.Truncate(time.Microsecond)) {
		fmt.Fprintf(a.stdout, "token %s of %s was already revoked at %s\n", t.ID, t.RepID, stamp(*t.RevokedAt))
		return nil
	}
	fmt.Fprintf(a.stdout, "revoked token %s of %s at %s; its UI sessions end on their next request\n", t.ID, t.RepID, stamp(*t.RevokedAt))
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func stampOr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(*t)
}
