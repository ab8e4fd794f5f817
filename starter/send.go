package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/leadflow/leadflow/internal/api"
)

func cmdSend(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	urlFlag := fs.String("url", "", "base `URL` of starter serve (default LEADFLOW_PUBLIC_URL)")
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	cl, err := a.newAPIClient(cfg, *urlFlag)
	if err != nil {
		return err
	}
	if len(cl.secret) == 0 {
		return fmt.Errorf("send: LEADFLOW_WEBHOOK_SECRET is not set: events must be signed with the server's secret")
	}

	name := pos[0]
	var in io.Reader = a.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		defer f.Close()
		in = f
	} else {
		name = "stdin"
	}
	events, err := parseEvents(in)
	if err != nil {
		return fmt.Errorf("send: %s: %w", name, err)
	}
	batches, err := makeBatches(events, api.MaxBatchEvents, api.MaxBatchBytes)
	if err != nil {
		return fmt.Errorf("send: %s: %w", name, err)
	}
	return a.sendBatches(ctx, cl, batches, len(events))
}

// sendBatches posts the batches in order and stops at the first one the
// server does not take, saying what was and was not sent.
func (a *app) sendBatches(ctx context.Context, cl *apiClient, batches []batch, total int) error {
	var accepted, duplicates int
	for n, b := range batches {
		label := fmt.Sprintf("batch %d/%d (events %d-%d)", n+1, len(batches), b.first, b.first+b.count-1)
		res, err := cl.postBatch(ctx, b.body, func(try int, wait time.Duration, err error) {
			fmt.Fprintf(a.stderr, "%s: %v; retrying in %s (try %d of %d)\n", label, err, wait, try+1, cl.maxTries)
		})
		if err != nil {
			var he *httpError
			if errors.As(err, &he) && he.Status == http.StatusBadRequest {
				fmt.Fprintf(a.stderr, "%s rejected, nothing in it was accepted:\n", label)
				for _, e := range he.Errors {
					if e.Index < 0 {
						fmt.Fprintf(a.stderr, "  batch: %s: %s\n", e.Field, e.Message)
						continue
					}
					fmt.Fprintf(a.stderr, "  event %d: %s: %s\n", b.first+e.Index, e.Field, e.Message)
				}
				if len(he.Errors) == 0 {
					fmt.Fprintf(a.stderr, "  %s\n", he.Message)
				}
				a.reportUnsent(n, batches, total)
				return errReported
			}
			a.reportUnsent(n, batches, total)
			return fmt.Errorf("send: %s: %w", label, err)
		}
		accepted += res.Accepted
		duplicates += res.Duplicates
		fmt.Fprintf(a.stdout, "%s: accepted %d, duplicates %d\n", label, res.Accepted, res.Duplicates)
	}
	if len(batches) > 1 {
		fmt.Fprintf(a.stdout, "total: %d events in %d batches: accepted %d, duplicates %d\n", total, len(batches), accepted, duplicates)
	}
	return nil
}

func (a *app) reportUnsent(failed int, batches []batch, total int) {
	if failed > 0 {
		last := batches[failed-1]
		fmt.Fprintf(a.stderr, "events 0-%d were sent; ", last.first+last.count-1)
	}
	fmt.Fprintf(a.stderr, "events %d-%d were not: fix and send again (events already sent count as duplicates)\n",
		batches[failed].first, total-1)
}

// rawEvents marshals values to raw JSON events (simulate builds events as
// structs and sends them through the same batching).
func rawEvents[T any](evs []T) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(evs))
	for i, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out[i] = b
	}
	return out, nil
}
