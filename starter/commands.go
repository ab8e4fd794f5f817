package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand: its name ("lead accept"), its argument synopsis,
// a one-line summary for `starter help` and a longer description for
// `starter help CMD`.
type command struct {
	name    string
	args    string
	summary string
	detail  string
	run     func(ctx context.Context, a *app, c *command, args []string) error
}

// commands is every subcommand, in the order `starter help` lists them.
var commands = []*command{
	{name: "serve", summary: "serve the HTTP API on LEADFLOW_HTTP_ADDR", run: cmdServe, detail: `
Serves the contract's HTTP API (events, leads, updates, health, readiness,
metrics). Creates and migrates the database if needed, registers the search
attributes when it can, and shuts down gracefully on SIGINT/SIGTERM.
Needs LEADFLOW_WEBHOOK_SECRET and LEADFLOW_ID_KEY.`},
	{name: "send", args: "[--url URL] FILE|-", summary: "send events from a file (or stdin) as signed batches", run: cmdSend, detail: `
FILE holds {"events":[…]}, a JSON array of events, or JSON lines (one event
per line). Events are sent in batches of at most 500 events and 1 MiB, each
signed with LEADFLOW_WEBHOOK_SECRET, to LEADFLOW_PUBLIC_URL/v1/events.
A batch answered 503 is retried (Retry-After honoured, at most 5 tries).
On 400 every problem is printed with the event's index in the file.`},
	{name: "lead show", args: "[--json] [--url URL] ID", summary: "show a lead's state", run: cmdLeadShow},
	{name: "lead explain", args: "[--json] [--url URL] ID", summary: "explain why a lead is where it is", run: cmdLeadExplain},
	{name: "lead accept", args: "ID --rep R [--id X] [--json] [--url URL]", summary: "accept a handoff as rep R", run: cmdLeadAccept, detail: `
--id is the update's idempotency key; it defaults to a random one. Repeat a
failed call with the same --id to make sure it applies at most once.`},
	{name: "lead reject", args: "ID --rep R --reason REASON [--note N] [--duplicate-of L] [--revisit-at RFC3339] [--id X]", summary: "reject a handoff with a reason", run: cmdLeadReject, detail: `
REASON is one of bad_fit, duplicate (needs --duplicate-of), no_response,
timing, competitor, other (needs --note).`},
	{name: "lead reassign", args: "ID --owner R --by WHO [--note N] [--id X] | --from R --to R2 [--dry-run] [--by WHO] [--note N]", summary: "give a lead (or every open lead of a rep) to another owner", run: cmdLeadReassign, detail: `
With ID: that lead, through starter serve. With --from and --to: every open
lead (mql, handoff, sal, opportunity, customer) that --from owns goes to --to,
through Temporal directly (each lead's owner is read first; one that is no
longer --from's stays). --dry-run lists what would move and sends nothing.
The leads are listed from Temporal visibility, which trails the leads by a
moment. A re-run the same day sends the same request IDs: safe.`},
	{name: "lead retry-effects", args: "ID [--by WHO] [--id X] [--json] [--url URL]", summary: "re-drive a lead's failed side effects", run: cmdLeadRetryEffects, detail: `
Starts the lead's failed side effects (CRM, nurture, notifications) again,
under their original keys, and prints what is left in its outbox. Needs the
admin LEADFLOW_API_TOKEN. --by defaults to your user name. Exits 1 with the
lead's reason when there is nothing to retry.`},
	{name: "policy check", args: "FILE [--directory DFILE]", summary: "validate a policy file (and its pools against a directory)", run: cmdPolicyCheck},
	{name: "policy publish", args: "FILE [--by WHO]", summary: "validate a policy file and store it as a version (not yet active)", run: cmdPolicyPublish, detail: policyRolloutDetail},
	{name: "policy shadow", args: "FILE | --version V [--csv OUT]", summary: "what a candidate policy would change for every open lead, without acting", run: cmdPolicyShadow, detail: policyShadowDetail},
	{name: "policy activate", args: "VERSION [--by WHO]", summary: "make a published version the one every worker runs", run: cmdPolicyActivate, detail: policyRolloutDetail},
	{name: "policy rollback", args: "[--by WHO]", summary: "activate the version that was active before the current one", run: cmdPolicyRollback, detail: policyRolloutDetail},
	{name: "policy status", summary: "the active version, the published ones, activations and what each worker runs", run: cmdPolicyStatus, detail: policyRolloutDetail},
	{name: "policy list", summary: "the same as policy status", run: cmdPolicyStatus},
	{name: "directory import", args: "FILE [--skip-leads]", summary: "import the sales directory into Postgres", run: cmdDirectoryImport, detail: `
A rep the file makes away today (and who was not) has their untouched
handoffs moved at once, as by ` + "`starter rep away`" + ` (this needs Temporal);
--skip-leads only imports.`},
	{name: "rep away", args: "REP --from YYYY-MM-DD --to YYYY-MM-DD", summary: "mark a rep out of office (dates inclusive, rep's timezone)", run: cmdRepAway, detail: `
When the period covers today (the rep's timezone), the rep's untouched
handoffs move now: routed again, or their SLA clocks paused to the end of
--to (policy away.mode), one line per lead. Touched and accepted leads stay.
A period that starts later: routing skips the rep from that day and the SLA
ladder reassigns their untouched leads. Talks to Temporal directly.`},
	{name: "rep back", args: "REP", summary: "mark a rep back as of today (rep's timezone)", run: cmdRepBack, detail: `
Also resumes the paused SLA clocks of the rep's handoffs.`},
	{name: "rep deactivate", args: "REP [--to REP2]", summary: "stop routing to a rep and move every open lead they own", run: cmdRepDeactivate, detail: `
Marks REP inactive (routing never picks them; history and metrics keep them;
a directory import that lists them makes them active again), then moves every
open lead REP owns: to REP2 with --to (the reassign update), else each to the
owner routing picks. Safe to run again.`},
	{name: "rep token", args: "REP [--ttl 30d] | list [REP] | revoke ID", summary: "mint, list or revoke web UI tokens that open only one rep's inbox", run: cmdRepToken, detail: repTokenDetail},
	{name: "report", args: "[--from YYYY-MM-DD --to YYYY-MM-DD] [--by segment|source|territory|pool|rep|policy] [--format table|json|csv]", summary: "the weekly numbers from the ledger", run: cmdReport, detail: reportDetail},
	{name: "codec-server", summary: "decrypt payloads for the Temporal UI and CLI (Codec Server)", run: cmdCodecServer, detail: codecServerDetail},
	{name: "db migrate", summary: "create the database if needed and apply migrations", run: cmdDBMigrate},
	{name: "simulate", args: "[--leads N] [--rate R] [--seed S] [--reps-act=true] [--run ID]", summary: "drive a realistic stream of leads through the HTTP API", run: cmdSimulate, detail: `
Generates N leads from several sources and segments, each with a plausible
journey, sends their events as signed batches at R leads per second, then
(with --reps-act) acts as the reps once a lead reaches handoff: touch and
accept, reject with each reason, open and close opportunities, or leave some
untouched so SLA ladders fire. Prints a funnel of where every lead ended up.
The same --seed gives the same leads; --run keeps IDs of reruns apart.`},
	{name: "version", summary: "print the build: deployment name, build ID, Go and Temporal SDK versions", run: cmdVersion, detail: `
The worker's Worker Deployment version as this environment resolves it
(LEADFLOW_DEPLOYMENT_NAME, LEADFLOW_BUILD_ID, else the binary's VCS stamp)
and LEADFLOW_WORKER_VERSIONING; ` + "`worker --version`" + ` prints the same.
See docs/upgrading.md.`},
	{name: "bench", args: "[--quick|--full] [--record] [--open-leads N]", summary: "measure leadflow beside a floor of minimal Temporal workflows", run: cmdBench, detail: benchDetail},
}

// groups are the first words of two-word commands.
func groups() map[string][]string {
	g := map[string][]string{}
	for _, c := range commands {
		if first, rest, ok := strings.Cut(c.name, " "); ok {
			g[first] = append(g[first], rest)
		}
	}
	return g
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// dispatch finds the command named by args and runs it.
func (a *app) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		a.printUsage(a.stderr)
		return &usageError{msg: "no command given"}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return a.help(ctx, args[1:])
	}
	if g, ok := groups()[args[0]]; ok {
		if len(args) < 2 || findCommand(args[0]+" "+args[1]) == nil {
			what := "missing subcommand"
			if len(args) >= 2 {
				what = fmt.Sprintf("unknown subcommand %q", args[1])
			}
			return &usageError{cmd: args[0], msg: fmt.Sprintf("%s: %s (want one of: %s)", args[0], what, strings.Join(g, ", "))}
		}
		c := findCommand(args[0] + " " + args[1])
		return c.run(ctx, a, c, args[2:])
	}
	if c := findCommand(args[0]); c != nil {
		return c.run(ctx, a, c, args[1:])
	}
	return &usageError{msg: fmt.Sprintf("unknown command %q", args[0])}
}

// help prints the overview, or one command's usage (with its flags, which
// the command defines when it runs: so it runs with -h, printing to stdout).
func (a *app) help(ctx context.Context, args []string) error {
	if len(args) == 0 {
		a.printUsage(a.stdout)
		return nil
	}
	name := strings.Join(args, " ")
	if c := findCommand(name); c != nil {
		toStdout := *a
		toStdout.stderr = a.stdout
		return c.run(ctx, &toStdout, c, []string{"-h"})
	}
	if g, ok := groups()[name]; ok {
		fmt.Fprintf(a.stdout, "usage: starter %s {%s} …\n\n", name, strings.Join(g, "|"))
		for _, c := range commands {
			if strings.HasPrefix(c.name, name+" ") {
				fmt.Fprintf(a.stdout, "  %-18s %s\n", c.name, c.summary)
			}
		}
		return nil
	}
	return &usageError{msg: fmt.Sprintf("help: unknown command %q", name)}
}

func (a *app) printUsage(w io.Writer) {
	fmt.Fprint(w, `starter — leadflow's HTTP API and command line

usage: starter COMMAND [flags] [args]

commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `  help [COMMAND]     show this text, or a command's flags

Configuration comes from the environment (see CONTRACT.md, "Configuration"):
TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, LEADFLOW_WEBHOOK_SECRET,
LEADFLOW_ID_KEY, LEADFLOW_HTTP_ADDR, LEADFLOW_PUBLIC_URL, LEADFLOW_API_TOKEN, …

Exit codes: 0 ok, 1 failure, 2 usage error.
`)
}
