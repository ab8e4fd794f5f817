package main

import (
	"strings"
	"testing"
)

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{},
		{"frobnicate"},
		{"lead"},
		{"lead", "frob"},
		{"lead", "show"},
		{"lead", "show", "a", "b"},
		{"lead", "show", "bad/id"},
		{"lead", "show", "--nope", "L-1"},
		{"lead", "accept", "L-1"},
		{"lead", "reject", "L-1", "--rep", "rep-1"},
		{"lead", "reject", "L-1", "--rep", "rep-1", "--reason", "nope"},
		{"lead", "reject", "L-1", "--rep", "rep-1", "--reason", "duplicate"},
		{"lead", "reject", "L-1", "--rep", "rep-1", "--reason", "other"},
		{"lead", "reject", "L-1", "--rep", "rep-1", "--reason", "timing", "--revisit-at", "soon"},
		{"lead", "reassign", "L-1", "--owner", "rep-2"},
		{"lead", "retry-effects"},
		{"lead", "retry-effects", "bad/id"},
		{"lead", "retry-effects", "L-1", "L-2"},
		{"lead", "retry-effects", "L-1", "--by", strings.Repeat("x", 300)},
		{"send"},
		{"send", "a.json", "b.json"},
		{"send", "--url", "ftp://x", "a.json"},
		{"policy"},
		{"policy", "check"},
		{"directory", "import"},
		{"rep", "away", "rep-1"},
		{"rep", "away", "rep-1", "--from", "2026-12-01", "--to", "tomorrow"},
		{"rep", "away", "rep-1", "--from", "2026-12-05", "--to", "2026-12-01"},
		{"rep", "back"},
		{"db", "migrate", "now"},
		{"serve", "extra"},
		{"simulate", "--leads", "0"},
		{"simulate", "--rate", "-1"},
		{"simulate", "--run", "no spaces"},
		{"simulate", "--leads", "many"},
		{"help", "nothing"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ta := newTestApp(t, nil)
			if code := ta.run(t, args...); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(ta.errOut.String(), "starter help") {
				t.Errorf("stderr does not point at `starter help`:\n%s", ta.errOut)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	ta := newTestApp(t, nil)
	if code := ta.run(t, "help"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(ta.out.String(), c.name) {
			t.Errorf("help does not list %q", c.name)
		}
	}
	if code := ta.run(t, "help", "lead", "reject"); code != exitOK {
		t.Fatalf("help lead reject: exit %d", code)
	}
	for _, want := range []string{"usage: starter lead reject", "-reason", "-duplicate-of", "-revisit-at"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("help lead reject lacks %q", want)
		}
	}
	if code := ta.run(t, "send", "-h"); code != exitOK {
		t.Fatalf("send -h: exit %d", code)
	}
	if !strings.Contains(ta.errOut.String(), "usage: starter send") {
		t.Errorf("send -h printed no usage")
	}
}

func TestFlagsAnywhere(t *testing.T) {
	ts, leads := fakeAPI(t, "", nil)
	leads.Views["L-1"] = leadView("L-1")
	ta := newTestApp(t, clientEnv(ts, ""))
	for _, args := range [][]string{
		{"lead", "show", "--json", "L-1"},
		{"lead", "show", "L-1", "--json"},
		{"lead", "show", "--json", "--", "L-1"},
	} {
		if code := ta.run(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		if !strings.Contains(ta.out.String(), `"leadId": "L-1"`) {
			t.Errorf("%v: no indented JSON", args)
		}
	}
}
