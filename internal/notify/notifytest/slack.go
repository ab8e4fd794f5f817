package notifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Slack is a Slack receiver written to Slack's documented behaviour:
// incoming webhooks (POST JSON {text, blocks}, answer 200 "ok") and the Web
// API's chat.postMessage (form POST, bearer token, answer {"ok":…}). Each
// request's blocks are checked against the Block Kit shape; a request that
// breaks it is answered 400 invalid_blocks, as Slack does, and recorded.
type Slack struct {
	srv *httptest.Server
	// Token is the bot token chat.postMessage accepts.
	Token string

	mu    sync.Mutex
	posts []Post
	// next, when set, answers the next request instead (then cleared).
	next http.HandlerFunc
}

// Post is one request received.
type Post struct {
	Path, Auth, Channel, Text string
	Blocks                    []map[string]any
	ShapeErr                  string
}

// NewSlack starts a receiver.
func NewSlack(t *testing.T) *Slack {
	f := &Slack{Token: "xoxb-test-token"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// WebhookURL is an incoming webhook.
func (f *Slack) WebhookURL() string { return f.srv.URL + "/services/T000/B000/XXXX" }

// APIURL is the Web API base.
func (f *Slack) APIURL() string { return f.srv.URL + "/api/" }

// Answer makes the next request get h.
func (f *Slack) Answer(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = h
}

// Received is every post so far.
func (f *Slack) Received() []Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Post(nil), f.posts...)
}

func (f *Slack) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	next := f.next
	f.next = nil
	f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	p := Post{Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
	var blocksJSON string
	switch {
	case strings.HasPrefix(r.URL.Path, "/services/"):
		var body struct {
			Text   string          `json:"text"`
			Blocks json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		p.Text, blocksJSON = body.Text, string(body.Blocks)
	case r.URL.Path == "/api/chat.postMessage":
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if form.Get("token") != "" {
			p.ShapeErr = "token in the form body"
		}
		p.Channel, p.Text, blocksJSON = form.Get("channel"), form.Get("text"), form.Get("blocks")
	default:
		http.NotFound(w, r)
		return
	}
	if p.ShapeErr == "" {
		if err := json.Unmarshal([]byte(blocksJSON), &p.Blocks); err != nil {
			p.ShapeErr = "blocks: " + err.Error()
		} else {
			p.ShapeErr = CheckBlockKit(p.Blocks)
		}
	}
	f.mu.Lock()
	f.posts = append(f.posts, p)
	f.mu.Unlock()
	if next != nil {
		next(w, r)
		return
	}
	if p.ShapeErr != "" {
		http.Error(w, "invalid_blocks", http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/services/") {
		_, _ = io.WriteString(w, "ok")
		return
	}
	if p.Auth != "Bearer "+f.Token {
		WriteJSON(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	WriteJSON(w, map[string]any{"ok": true, "channel": "D0" + p.Channel[1:], "ts": "1700000000.000100"})
}

// WriteJSON answers a Web API call.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// CheckBlockKit checks the Block Kit shape leadflow relies on: a header
// (plain_text), sections with a text object or fields, and actions with
// button elements linking somewhere. "" when it holds.
func CheckBlockKit(blocks []map[string]any) string {
	if len(blocks) == 0 {
		return "no blocks"
	}
	textObj := func(v any, types ...string) string {
		o, ok := v.(map[string]any)
		if !ok {
			return "not a text object"
		}
		ty, _ := o["type"].(string)
		ok = false
		for _, t := range types {
			ok = ok || ty == t
		}
		if !ok {
			return fmt.Sprintf("text object type %q, want %v", ty, types)
		}
		if s, _ := o["text"].(string); s == "" {
			return "empty text"
		}
		return ""
	}
	for i, b := range blocks {
		switch b["type"] {
		case "header":
			if e := textObj(b["text"], "plain_text"); e != "" {
				return fmt.Sprintf("block %d header: %s", i, e)
			}
			if s := b["text"].(map[string]any)["text"].(string); len([]rune(s)) > 150 {
				return fmt.Sprintf("block %d header: over 150 characters", i)
			}
		case "section":
			_, hasText := b["text"]
			fields, _ := b["fields"].([]any)
			if !hasText && len(fields) == 0 {
				return fmt.Sprintf("block %d section: neither text nor fields", i)
			}
			if hasText {
				if e := textObj(b["text"], "plain_text", "mrkdwn"); e != "" {
					return fmt.Sprintf("block %d section: %s", i, e)
				}
			}
			for j, fl := range fields {
				if e := textObj(fl, "plain_text", "mrkdwn"); e != "" {
					return fmt.Sprintf("block %d field %d: %s", i, j, e)
				}
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 {
				return fmt.Sprintf("block %d actions: no elements", i)
			}
			for j, el := range els {
				e, _ := el.(map[string]any)
				if e["type"] != "button" {
					return fmt.Sprintf("block %d element %d: type %v, want button", i, j, e["type"])
				}
				if msg := textObj(e["text"], "plain_text"); msg != "" {
					return fmt.Sprintf("block %d button %d: %s", i, j, msg)
				}
				if u, _ := e["url"].(string); !strings.HasPrefix(u, "http") {
					return fmt.Sprintf("block %d button %d: url %q", i, j, u)
				}
			}
		default:
			return fmt.Sprintf("block %d: type %v, want header, section or actions", i, b["type"])
		}
	}
	return ""
}
