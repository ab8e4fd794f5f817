// Package uitest drives the Temporal Web UI (the dev server's) in headless
// Chromium: with the Codec Server it shows a lead's signal decrypted;
// without it, the email is nowhere on the page. With
// LEADFLOW_WRITE_SCREENSHOTS=1 it writes docs/screenshots/temporal-ui-decoded.png
// and temporal-ui-encrypted.png.
package uitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// chromiumPath is Debian's chromium (`make chromium`); the test fails without it.
const chromiumPath = "/usr/bin/chromium"

const screenshotDir = "../../../docs/screenshots"

func TestTemporalUIDecodesThroughCodecServer(t *testing.T) {
	// The codec server's address goes on the dev server's command line; the
	// UI's port (its CORS origin) is known only once the server runs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{UI: true, UICodecEndpoint: "http://" + ln.Addr().String()})
	var decodes atomic.Int32
	cs := codec.NewServer(testenv.Codec(t), codec.ServerOptions{Origins: []string{
		fmt.Sprintf("http://127.0.0.1:%d", srv.UIPort), fmt.Sprintf("http://localhost:%d", srv.UIPort)}})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Count the decode requests that carry an encrypted payload (the UI
		// also sends plain ones, which pass through).
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/decode") {
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted))) {
				decodes.Add(1)
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		cs.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })

	ctx, email := openSignal(t, srv)
	body := waitForText(t, ctx, email, 60*time.Second)
	if !strings.Contains(body, email) {
		t.Fatalf("the UI never showed the decoded email (the codec server saw %d requests to decode encrypted payloads); page text:\n%s", decodes.Load(), body)
	}
	if decodes.Load() == 0 {
		t.Fatal("the email showed without a request to decode an encrypted payload: the signal was not encrypted")
	}
	writeScreenshot(t, ctx, email, "temporal-ui-decoded.png")

	// The CLI, as docs/security.md tells operators: with --codec-endpoint
	// the signal reads in clear, without it the email is absent.
	show := func(extra ...string) string {
		args := append([]string{"workflow", "show", "-w", lead.WorkflowID("UI-1"), "--address", srv.Address, "--namespace", srv.Namespace, "-o", "json"}, extra...)
		out, err := exec.Command(testenv.TemporalCLI(t), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("temporal %v: %v\n%s", args, err, out)
		}
		// Payload data is base64 in the JSON form: search it decoded.
		var doc any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("temporal %v: not JSON: %v", args, err)
		}
		return string(out) + payloadData(doc)
	}
	if out := show("--codec-endpoint", "http://"+ln.Addr().String()); !strings.Contains(out, email) {
		t.Errorf("temporal workflow show --codec-endpoint: no email in\n%s", out)
	}
	if out := show(); strings.Contains(out, email) {
		t.Errorf("temporal workflow show without the codec shows the email:\n%s", out)
	}
}

// Without a codec endpoint the UI gets the ciphertext: the signal's input
// is the raw payload, its metadata in base64 (binary/encrypted), and the
// email is not on the page.
func TestTemporalUIWithoutCodecServer(t *testing.T) {
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{UI: true})
	ctx, email := openSignal(t, srv)
	marker := base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted))
	body := waitForText(t, ctx, marker, 60*time.Second)
	if !strings.Contains(body, marker) || strings.Contains(body, email) {
		t.Fatalf("want the signal shown as %s (%s) without the email; page text:\n%s", codec.EncodingEncrypted, marker, body)
	}
	writeScreenshot(t, ctx, marker, "temporal-ui-encrypted.png")
}

// openSignal sends a lead's event, encrypted by the client as serve would
// (no worker is needed for the signal to be in the history), and opens the
// workflow's history page in Chromium. It returns the lead's email.
func openSignal(t *testing.T, srv *testenv.DevServer) (context.Context, string) {
	t.Helper()
	email := "ui.proof." + fmt.Sprint(time.Now().UnixNano()) + "@initech.com"
	leads := temporalx.NewLeadClient(srv.Client(t), "ui-test-no-worker")
	ev := lead.Event{ID: "ui-evt-1", LeadID: "UI-1", Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: "website",
		Attributes: map[string]any{"form": "demo_request"}, Profile: &lead.Profile{Email: email, Domain: "initech.com"}}
	if err := leads.Deliver(t.Context(), "UI-1", ev); err != nil {
		t.Fatal(err)
	}
	desc, err := srv.RawClient(t).DescribeWorkflowExecution(t.Context(), lead.WorkflowID("UI-1"), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	page := fmt.Sprintf("http://127.0.0.1:%d/namespaces/%s/workflows/%s/%s/history", srv.UIPort, srv.Namespace,
		url.PathEscape(lead.WorkflowID("UI-1")), desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	return ctx, email
}

// waitForText polls the page's text until it contains want (opening the
// signal's row, whose input shows only once open) or timeout passes; it
// returns the last text read.
func waitForText(t *testing.T, ctx context.Context, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		if strings.Contains(body, want) || time.Now().After(deadline) {
			return body
		}
		_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			const rows = [...document.querySelectorAll('tr, li, button')]
				.filter(e => /Workflow\s*Execution\s*Signaled/i.test(e.innerText || ''));
			if (rows.length === 0) return false;
			rows[rows.length - 1].click();
			return true;
		})()`))
		time.Sleep(500 * time.Millisecond) // polling the rendered page, bounded by the deadline
	}
}

// writeScreenshot scrolls the first text node holding mark into view (the
// history scrolls inside the page) and saves the viewport, when asked to.
func writeScreenshot(t *testing.T, ctx context.Context, mark, name string) {
	t.Helper()
	if os.Getenv("LEADFLOW_WRITE_SCREENSHOTS") != "1" {
		return
	}
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		while (w.nextNode()) {
			if (w.currentNode.textContent.includes(%q)) {
				w.currentNode.parentElement.scrollIntoView({block: "center"});
				return true;
			}
		}
		return false;
	})()`, mark)))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(screenshotDir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", p)
}

func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("headless Chromium is required at %s (%v); install it with: apt-get install -y chromium", chromiumPath, err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1100))
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// payloadData concatenates every base64 "data" value under v, decoded.
func payloadData(v any) string {
	var b strings.Builder
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "data" {
				if d, err := base64.StdEncoding.DecodeString(s); err == nil {
					b.Write(d)
					b.WriteByte('\n')
				}
				continue
			}
			b.WriteString(payloadData(e))
		}
	case []any:
		for _, e := range x {
			b.WriteString(payloadData(e))
		}
	}
	return b.String()
}
