package hubspot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/store"
)

// OwnerResolver maps leadflow reps (directory IDs) to HubSpot owners and
// back. Errors for a rep that cannot be mapped wrap store.ErrUnknownRep.
type OwnerResolver interface {
	// OwnerOf is the HubSpot owner ID of a rep.
	OwnerOf(ctx context.Context, repID string) (string, error)
	// ManagerOf is the rep ID of a rep's manager ("" when none).
	ManagerOf(ctx context.Context, repID string) (string, error)
	// RepOf is the rep a HubSpot owner is, if any.
	RepOf(ctx context.Context, ownerID string) (string, bool, error)
}

// RepSource is where the directory comes from (store.Directory).
type RepSource interface {
	Directory(ctx context.Context) (*directory.Directory, error)
}

// OwnerLister lists HubSpot owners (*Client).
type OwnerLister interface {
	Owners(ctx context.Context) ([]Owner, error)
}

// DefaultOwnerTTL is how long the directory and the owners list are cached.
const DefaultOwnerTTL = 5 * time.Minute

// minRefresh is how soon a failed lookup may reload the caches: a rep
// added to the directory (or a user added in HubSpot) a minute ago is found
// without waiting for the TTL, and a burst of lookups for an unmappable rep
// does not reload on every call.
const minRefresh = 10 * time.Second

// Owners is the OwnerResolver over the directory and HubSpot's owners API:
// a rep's hubspot_owner_id if set, else the owner whose email is the rep's
// email (case-insensitive), else — for a rep with neither — the one owner
// whose first and last name are the rep's name. Both lists are cached for
// the TTL.
type Owners struct {
	reps   RepSource
	owners OwnerLister
	ttl    time.Duration
	clock  Clock

	mu       sync.Mutex
	dir      *directory.Directory
	dirAt    time.Time
	byEmail  map[string]string // lower-case email → owner ID
	byName   map[string]string // lower-case "first last" → owner ID; "" when two owners share it
	ownersAt time.Time
}

// NewOwners returns a resolver; ttl 0 = DefaultOwnerTTL, clock nil = wall
// clock.
func NewOwners(reps RepSource, owners OwnerLister, ttl time.Duration, clock Clock) *Owners {
	if ttl <= 0 {
		ttl = DefaultOwnerTTL
	}
	if clock == nil {
		clock = RealClock
	}
	return &Owners{reps: reps, owners: owners, ttl: ttl, clock: clock}
}

// directory returns the cached directory, reloading it when older than
// maxAge.
func (o *Owners) directory(ctx context.Context, maxAge time.Duration) (*directory.Directory, error) {
	now := o.clock.Now()
	if o.dir != nil && now.Sub(o.dirAt) < maxAge {
		return o.dir, nil
	}
	d, err := o.reps.Directory(ctx)
	if err != nil {
		return nil, fmt.Errorf("hubspot owners: load directory: %w", err)
	}
	o.dir, o.dirAt = d, now
	return d, nil
}

func (o *Owners) ownersByEmail(ctx context.Context, maxAge time.Duration) (map[string]string, error) {
	now := o.clock.Now()
	if o.byEmail != nil && now.Sub(o.ownersAt) < maxAge {
		return o.byEmail, nil
	}
	list, err := o.owners.Owners(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(list))
	names := make(map[string]string, len(list))
	for _, ow := range list {
		if ow.Archived {
			continue
		}
		if ow.Email != "" {
			m[strings.ToLower(ow.Email)] = ow.ID
		}
		if n := nameKey(ow.FirstName + " " + ow.LastName); n != "" {
			if _, dup := names[n]; dup {
				names[n] = "" // ambiguous: never guess between two people
			} else {
				names[n] = ow.ID
			}
		}
	}
	o.byEmail, o.byName, o.ownersAt = m, names, now
	return m, nil
}

// nameKey normalises a person's name for matching: lower case, single spaces.
func nameKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// lookup runs fn on the caches; if fn finds nothing, once more on caches
// reloaded (when they are older than minRefresh).
func (o *Owners) lookup(ctx context.Context, fn func(maxAge time.Duration) (bool, error)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	ok, err := fn(o.ttl)
	if err != nil || ok {
		return err
	}
	_, err = fn(minRefresh)
	return err
}

// OwnerOf implements OwnerResolver.
func (o *Owners) OwnerOf(ctx context.Context, repID string) (string, error) {
	var owner, why string
	err := o.lookup(ctx, func(maxAge time.Duration) (bool, error) {
		d, err := o.directory(ctx, maxAge)
		if err != nil {
			return false, err
		}
		r, ok := d.Reps[repID]
		switch {
		case !ok:
			why = "not in the directory"
			return false, nil
		case r.HubSpotOwnerID != "":
			owner = r.HubSpotOwnerID
			return true, nil
		}
		byEmail, err := o.ownersByEmail(ctx, maxAge)
		if err != nil {
			return false, err
		}
		if r.Email != "" {
			if owner = byEmail[strings.ToLower(r.Email)]; owner != "" {
				return true, nil
			}
			why = "has no hubspot_owner_id and no HubSpot owner has the rep's email"
			return false, nil
		}
		// Last resort, so a team need not edit its directory: the one
		// HubSpot owner with the rep's full name.
		if owner = o.byName[nameKey(r.Name)]; owner != "" {
			return true, nil
		}
		why = "has neither hubspot_owner_id nor email in the directory, and no single HubSpot owner has the rep's name"
		return false, nil
	})
	if err != nil {
		return "", err
	}
	if owner == "" {
		return "", fmt.Errorf("rep %q %s: %w", repID, why, store.ErrUnknownRep)
	}
	return owner, nil
}

// ManagerOf implements OwnerResolver.
func (o *Owners) ManagerOf(ctx context.Context, repID string) (string, error) {
	var mgr string
	found := false
	err := o.lookup(ctx, func(maxAge time.Duration) (bool, error) {
		d, err := o.directory(ctx, maxAge)
		if err != nil {
			return false, err
		}
		r, ok := d.Reps[repID]
		mgr, found = r.Manager, ok
		return ok, nil
	})
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("rep %q is not in the directory: %w", repID, store.ErrUnknownRep)
	}
	return mgr, nil
}

// RepOf implements OwnerResolver: the rep whose hubspot_owner_id is
// ownerID, else the rep whose email is the owner's, else (for a rep with no
// email) the rep whose name is the owner's, when no other owner shares it.
func (o *Owners) RepOf(ctx context.Context, ownerID string) (string, bool, error) {
	var rep string
	err := o.lookup(ctx, func(maxAge time.Duration) (bool, error) {
		d, err := o.directory(ctx, maxAge)
		if err != nil {
			return false, err
		}
		var byEmail map[string]string
		for _, id := range sortedReps(d) {
			r := d.Reps[id]
			if r.HubSpotOwnerID == ownerID {
				rep = id
				return true, nil
			}
			if r.HubSpotOwnerID != "" {
				continue
			}
			if byEmail == nil {
				if byEmail, err = o.ownersByEmail(ctx, maxAge); err != nil {
					return false, err
				}
			}
			if r.Email != "" && byEmail[strings.ToLower(r.Email)] == ownerID {
				rep = id
				return true, nil
			}
			if r.Email == "" && o.byName[nameKey(r.Name)] == ownerID {
				rep = id
				return true, nil
			}
		}
		return false, nil
	})
	return rep, rep != "", err
}

// sortedReps is deterministic order; Validate keeps owner IDs and emails
// unique anyway.
func sortedReps(d *directory.Directory) []string { return slices.Sorted(maps.Keys(d.Reps)) }
