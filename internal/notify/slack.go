package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// ChannelSlack is the Slack channel's name in delivery records.
const ChannelSlack = "slack"

// defaultSlackRetryAfter is the wait after a 429 without Retry-After.
const defaultSlackRetryAfter = 30 * time.Second

// Slack errors (the "error" of an ok:false answer) that an outage on
// Slack's side causes: retried, not refused.
var slackTransient = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

// Slack posts Block Kit messages: to one incoming webhook (the person is
// mentioned when their Slack ID is known), or with a bot token to each
// person's Slack user ID (chat.postMessage opens the DM).
type Slack struct {
	webhook string
	api     *slack.Client
	http    *http.Client
}

// SlackOption configures a Slack channel.
type SlackOption func(*slackOpts)

type slackOpts struct {
	apiURL string
	http   *http.Client
}

// WithSlackAPIURL points the bot at another Web API base (tests).
func WithSlackAPIURL(u string) SlackOption { return func(o *slackOpts) { o.apiURL = u } }

// WithSlackHTTPClient sets the HTTP client (its Timeout bounds a post).
func WithSlackHTTPClient(c *http.Client) SlackOption { return func(o *slackOpts) { o.http = c } }

func slackOptions(opts []SlackOption) slackOpts {
	o := slackOpts{http: &http.Client{Timeout: 10 * time.Second}}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// NewSlackWebhook posts to an incoming webhook URL.
func NewSlackWebhook(webhookURL string, opts ...SlackOption) (*Slack, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// The URL is a secret (it grants posting): not echoed.
		return nil, errors.New("slack webhook: want an absolute https:// URL")
	}
	o := slackOptions(opts)
	return &Slack{webhook: webhookURL, http: o.http}, nil
}

// NewSlackBot posts with a bot token (xoxb-…).
func NewSlackBot(token string, opts ...SlackOption) (*Slack, error) {
	if strings.TrimSpace(token) == "" || strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("slack bot token: want one token without spaces (xoxb-…)")
	}
	o := slackOptions(opts)
	sopts := []slack.Option{slack.OptionHTTPClient(bearer{o.http})}
	if o.apiURL != "" {
		sopts = append(sopts, slack.OptionAPIURL(strings.TrimRight(o.apiURL, "/")+"/"))
	}
	return &Slack{api: slack.New(token, sopts...), http: o.http}, nil
}

// Name is the channel's name.
func (s *Slack) Name() string { return ChannelSlack }

// Reaches: a bot needs the person's Slack ID; a webhook reaches every
// directory person (in its one channel), not addresses outside it.
func (s *Slack) Reaches(p Person) bool {
	if s.api != nil {
		return p.Slack != ""
	}
	return !p.External
}

// Send posts m.
func (s *Slack) Send(ctx context.Context, m Message) error {
	blocks := Blocks(m)
	var err error
	if s.api != nil {
		_, _, err = s.api.PostMessageContext(ctx, m.To.Slack,
			slack.MsgOptionText(m.Title, false), slack.MsgOptionBlocks(blocks...))
	} else {
		err = slack.PostWebhookCustomHTTPContext(ctx, s.webhook, s.http,
			&slack.WebhookMessage{Text: m.Title, Blocks: &slack.Blocks{BlockSet: blocks}})
	}
	return slackError(err)
}

// slackError sorts slack-go's errors into Refused, Limited and
// Unavailable. Texts are Slack's codes, never the message.
func slackError(err error) error {
	if err == nil {
		return nil
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return &Limited{Channel: ChannelSlack, RetryAfter: max(rl.RetryAfter, time.Second)}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return &Limited{Channel: ChannelSlack, RetryAfter: defaultSlackRetryAfter}
		case sc.Code >= 500 || sc.Code == http.StatusRequestTimeout:
			return &Unavailable{Channel: ChannelSlack, Reason: sc.Status}
		default:
			return &Refused{Channel: ChannelSlack, Reason: sc.Status}
		}
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		if slackTransient[se.Err] {
			return &Unavailable{Channel: ChannelSlack, Reason: se.Err}
		}
		return &Refused{Channel: ChannelSlack, Reason: se.Err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Unavailable{Channel: ChannelSlack, Reason: "timeout"}
	}
	// Connection failures and timeouts. Their text names Slack's host (or
	// the webhook URL, a secret): kept out.
	var ue *url.Error
	if errors.As(err, &ue) {
		reason := "no answer"
		if ue.Timeout() {
			reason = "timeout"
		}
		return &Unavailable{Channel: ChannelSlack, Reason: fmt.Sprintf("%s (%s)", reason, ue.Op)}
	}
	return &Unavailable{Channel: ChannelSlack, Reason: "request failed"}
}

// bearer moves the token slack-go puts in a Web API call's form body into
// an Authorization: Bearer header, as Slack recommends: a body is what
// proxies and debug logs keep.
type bearer struct{ c *http.Client }

func (b bearer) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return b.c.Do(req)
	}
	raw, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("slack request body: %w", err)
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, fmt.Errorf("slack request body: %w", err)
	}
	if tok := form.Get("token"); tok != "" {
		form.Del("token")
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	return b.c.Do(req)
}

// Check asks Slack whether the bot token works (auth.test), so the worker
// can warn at start. A webhook cannot be checked without posting: nil.
func (s *Slack) Check(ctx context.Context) error {
	if s.api == nil {
		return nil
	}
	if _, err := s.api.AuthTestContext(ctx); err != nil {
		return slackError(err)
	}
	return nil
}
