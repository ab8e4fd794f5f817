package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/actions"
)

// Ledger is the append-only ledger.
type Ledger struct{ *conn }

const insertLedger = `
INSERT INTO ledger (key, lead_id, kind, at, from_stage, to_stage, why, owner_id,
                    segment, territory, source, campaign, policy_version, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (key) DO NOTHING`

// Record appends entries to the ledger in one transaction: all of them or,
// on any error, none. An entry whose key is already there is skipped, so a
// retried Record activity adds nothing.
func (s Ledger) Record(ctx context.Context, entries []actions.LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i, e := range entries {
		if err := requireKey("record", e.Key, e.LeadID); err != nil {
			return fmt.Errorf("ledger entry %d: %w", i, err)
		}
		if e.Kind == "" || e.At.IsZero() {
			return fmt.Errorf("record ledger entry %s: kind and at are required: %w", e.Key, ErrInvalidInput)
		}
		data := []byte("{}")
		if len(e.Data) > 0 {
			var err error
			if data, err = json.Marshal(e.Data); err != nil {
				return fmt.Errorf("record ledger entry %s: data: %w: %w", e.Key, err, ErrInvalidInput)
			}
		}
		b.Queue(insertLedger, e.Key, e.LeadID, e.Kind, e.At,
			nullable(string(e.From)), nullable(string(e.To)), nullable(e.Why), nullable(e.OwnerID),
			nullable(e.Segment), nullable(e.Territory), nullable(e.Source), nullable(e.Campaign),
			nullable(e.PolicyVersion), data)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Close reports the first failing statement; BeginTxFunc then rolls
		// the whole batch back.
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("record %d ledger entries (first %s, lead %s): %w", len(entries), entries[0].Key, entries[0].LeadID, err)
	}
	return nil
}
