package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Object types (path segments of /crm/v3/objects/{type}).
const (
	Contacts = "contacts"
	Tasks    = "tasks"
	Notes    = "notes"
	Deals    = "deals"
)

// HubSpot-defined association type IDs (associations v4).
const (
	AssocTaskToContact = 204
	AssocNoteToContact = 202
)

// Object is a CRM record as the v3 objects API returns it.
type Object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
	Archived   bool              `json:"archived"`
}

// UnmarshalJSON accepts null property values (HubSpot sends unset
// properties as null).
func (o *Object) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID         string             `json:"id"`
		Properties map[string]*string `json:"properties"`
		CreatedAt  time.Time          `json:"createdAt"`
		UpdatedAt  time.Time          `json:"updatedAt"`
		Archived   bool               `json:"archived"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*o = Object{ID: raw.ID, CreatedAt: raw.CreatedAt, UpdatedAt: raw.UpdatedAt, Archived: raw.Archived,
		Properties: make(map[string]string, len(raw.Properties))}
	for k, v := range raw.Properties {
		if v != nil {
			o.Properties[k] = *v
		}
	}
	return nil
}

// Association links a new object to another record at creation.
type Association struct {
	To    AssociationTarget `json:"to"`
	Types []AssociationType `json:"types"`
}

// AssociationTarget is the record associated to.
type AssociationTarget struct {
	ID string `json:"id"`
}

// AssociationType is a (category, type ID) pair.
type AssociationType struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

// ToContact associates with contact contactID by the HubSpot-defined type.
func ToContact(contactID string, typeID int) Association {
	return Association{To: AssociationTarget{ID: contactID},
		Types: []AssociationType{{Category: "HUBSPOT_DEFINED", TypeID: typeID}}}
}

// Filter is one condition of a search (ANDed within a filter group).
type Filter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"` // EQ, NEQ, CONTAINS_TOKEN, HAS_PROPERTY, ...
	Value        string `json:"value,omitempty"`
}

// FilterGroup is filters ANDed; groups are ORed.
type FilterGroup struct {
	Filters []Filter `json:"filters"`
}

// SearchRequest is the body of POST /crm/v3/objects/{type}/search.
type SearchRequest struct {
	FilterGroups []FilterGroup `json:"filterGroups"`
	Properties   []string      `json:"properties,omitempty"`
	Limit        int           `json:"limit,omitempty"`
	After        string        `json:"after,omitempty"`
}

// SearchPage is one page of search results.
type SearchPage struct {
	Total   int      `json:"total"`
	Results []Object `json:"results"`
	Paging  *Paging  `json:"paging,omitempty"`
}

// Paging is HubSpot's cursor: pass Next.After to get the next page.
type Paging struct {
	Next *struct {
		After string `json:"after"`
		Link  string `json:"link,omitempty"`
	} `json:"next,omitempty"`
}

func (p *Paging) after() string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.After
}

// maxSearchPages bounds a search walk (HubSpot caps searches at 10,000
// results anyway).
const maxSearchPages = 20

func objectPath(objectType string, id ...string) string {
	p := "/crm/v3/objects/" + url.PathEscape(objectType)
	for _, s := range id {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// GetObject reads one record with the given properties.
func (c *Client) GetObject(ctx context.Context, objectType, id string, props ...string) (Object, error) {
	q := url.Values{}
	if len(props) > 0 {
		q.Set("properties", strings.Join(props, ","))
	}
	var o Object
	err := c.do(ctx, http.MethodGet, objectPath(objectType, id), q, nil, &o)
	return o, err
}

// GetContact reads a contact's properties.
func (c *Client) GetContact(ctx context.Context, contactID string, props ...string) (Object, error) {
	return c.GetObject(ctx, Contacts, contactID, props...)
}

// UpdateObject sets a record's properties (PATCH: only the given ones
// change; "" clears one). An unknown ID is HubSpot's 404 (IsNotFound).
func (c *Client) UpdateObject(ctx context.Context, objectType, id string, props map[string]string) error {
	return c.do(ctx, http.MethodPatch, objectPath(objectType, id), nil,
		map[string]any{"properties": props}, nil)
}

// UpdateContact sets contact properties (UpdateObject on a contact).
func (c *Client) UpdateContact(ctx context.Context, contactID string, props map[string]string) error {
	return c.UpdateObject(ctx, Contacts, contactID, props)
}

// FindContactByEmail searches contacts for email (EQ on the email property;
// HubSpot stores emails lower case). found is false when none matches.
// Search results lag writes by a few seconds: a contact created just now may
// not be found yet (CreateContact's 409 covers that case).
func (c *Client) FindContactByEmail(ctx context.Context, email string) (string, bool, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", false, errors.New("hubspot: find contact: empty email")
	}
	page, err := c.Search(ctx, Contacts, SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{{PropertyName: "email", Operator: "EQ", Value: email}}}},
		Properties:   []string{"email"},
		Limit:        1,
	})
	if err != nil || len(page.Results) == 0 {
		return "", false, err
	}
	return page.Results[0].ID, true, nil
}

// existingID is in HubSpot's 409 for a contact whose email exists:
// "Contact already exists. Existing ID: 12345".
var existingID = regexp.MustCompile(`Existing ID: ?([0-9]+)`)

// CreateContact creates a contact. HubSpot keeps contact emails unique: when
// one with the email exists (409 CONFLICT) its ID is returned with
// existed = true, so this is safe to repeat.
func (c *Client) CreateContact(ctx context.Context, props map[string]string) (id string, existed bool, err error) {
	var o Object
	err = c.do(ctx, http.MethodPost, objectPath(Contacts), nil, map[string]any{"properties": props}, &o)
	var e *APIError
	if errors.As(err, &e) && e.Status == http.StatusConflict {
		if m := existingID.FindStringSubmatch(e.Message); m != nil {
			return m[1], true, nil
		}
	}
	if err != nil {
		return "", false, err
	}
	return o.ID, false, nil
}

// CreateObject creates a record with properties and associations and
// returns its ID.
func (c *Client) CreateObject(ctx context.Context, objectType string, props map[string]string, assoc ...Association) (string, error) {
	body := map[string]any{"properties": props}
	if len(assoc) > 0 {
		body["associations"] = assoc
	}
	var o Object
	if err := c.do(ctx, http.MethodPost, objectPath(objectType), nil, body, &o); err != nil {
		return "", err
	}
	if o.ID == "" {
		return "", fmt.Errorf("hubspot: create %s: answer without an id", objectType)
	}
	return o.ID, nil
}

// CreateTask creates a task associated with the contact (type 204). props
// are task properties: hs_task_subject, hs_task_body, hs_timestamp (due,
// required), hs_task_status, hs_task_priority, hubspot_owner_id, ...
func (c *Client) CreateTask(ctx context.Context, props map[string]string, contactID string) (string, error) {
	return c.CreateObject(ctx, Tasks, props, ToContact(contactID, AssocTaskToContact))
}

// CreateNote creates a note on the contact (type 202) with the body
// (HTML), timestamp at and, if not "", owner ownerID.
func (c *Client) CreateNote(ctx context.Context, body, ownerID, contactID string, at time.Time) (string, error) {
	props := map[string]string{"hs_note_body": body, "hs_timestamp": Millis(at)}
	if ownerID != "" {
		props["hubspot_owner_id"] = ownerID
	}
	return c.CreateObject(ctx, Notes, props, ToContact(contactID, AssocNoteToContact))
}

// Search runs one search request (one page).
func (c *Client) Search(ctx context.Context, objectType string, req SearchRequest) (SearchPage, error) {
	var p SearchPage
	err := c.do(ctx, http.MethodPost, objectPath(objectType, "search"), nil, req, &p)
	return p, err
}

// SearchAll runs a search and follows paging (up to 20 pages).
func (c *Client) SearchAll(ctx context.Context, objectType string, req SearchRequest) ([]Object, error) {
	if req.Limit == 0 {
		req.Limit = 100
	}
	var out []Object
	for range maxSearchPages {
		p, err := c.Search(ctx, objectType, req)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Results...)
		if req.After = p.Paging.after(); req.After == "" {
			break
		}
	}
	return out, nil
}

func (c *Client) searchIDs(ctx context.Context, objectType, prop, value string) ([]string, error) {
	objs, err := c.SearchAll(ctx, objectType, SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{{PropertyName: prop, Operator: "CONTAINS_TOKEN", Value: value}}}},
		Properties:   []string{prop},
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	return ids, nil
}

// SearchTasksByProperty returns the IDs of tasks whose property prop
// contains the token value (CONTAINS_TOKEN: a whole-word match, case
// insensitive; a property holding exactly one token matches like EQ).
func (c *Client) SearchTasksByProperty(ctx context.Context, prop, value string) ([]string, error) {
	return c.searchIDs(ctx, Tasks, prop, value)
}

// SearchNotesByProperty is SearchTasksByProperty for notes.
func (c *Client) SearchNotesByProperty(ctx context.Context, prop, value string) ([]string, error) {
	return c.searchIDs(ctx, Notes, prop, value)
}

// Owner is a HubSpot user that can own records.
type Owner struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	UserID    int64  `json:"userId"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Archived  bool   `json:"archived"`
}

// Owners lists the account's active owners (GET /crm/v3/owners, all pages).
func (c *Client) Owners(ctx context.Context) ([]Owner, error) {
	var out []Owner
	after := ""
	for range 1000 {
		q := url.Values{"limit": {"100"}, "archived": {"false"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Results []Owner `json:"results"`
			Paging  *Paging `json:"paging"`
		}
		if err := c.do(ctx, http.MethodGet, "/crm/v3/owners", q, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
		if after = page.Paging.after(); after == "" {
			return out, nil
		}
	}
	return nil, errors.New("hubspot: owners: paging does not end")
}

// DealContacts returns the IDs of the contacts associated with a deal
// (GET /crm/v4/objects/deals/{id}/associations/contacts, all pages).
func (c *Client) DealContacts(ctx context.Context, dealID string) ([]string, error) {
	return c.associatedContacts(ctx, Deals, dealID)
}

// associatedContacts lists the contacts associated with any CRM object
// (GET /crm/v4/objects/{type}/{id}/associations/contacts, all pages).
func (c *Client) associatedContacts(ctx context.Context, objectType, id string) ([]string, error) {
	var out []string
	after := ""
	path := "/crm/v4/objects/" + url.PathEscape(objectType) + "/" + url.PathEscape(id) + "/associations/contacts"
	for range 1000 {
		q := url.Values{"limit": {"500"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Results []struct {
				ToObjectID json.Number `json:"toObjectId"`
			} `json:"results"`
			Paging *Paging `json:"paging"`
		}
		if err := c.do(ctx, http.MethodGet, path, q, nil, &page); err != nil {
			return nil, err
		}
		for _, r := range page.Results {
			out = append(out, r.ToObjectID.String())
		}
		if after = page.Paging.after(); after == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("hubspot: contacts of %s %s: paging does not end", objectType, id)
}

// Millis is a time as HubSpot's datetime property value: milliseconds since
// the Unix epoch.
func Millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
