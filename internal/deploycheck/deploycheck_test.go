package deploycheck

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/lead"
)

// starterCommands are the `starter` subcommands, with the second words of
// those that take one (nil: anything, or nothing).
var starterCommands = map[string][]string{
	"serve":        nil,
	"codec-server": nil,
	"send":         nil,
	"lead":         nil,
	"policy":       {"check"},
	"directory":    {"import"},
	"rep":          {"away", "back"},
	"db":           {"migrate"},
	"simulate":     nil,
}

// upstreamImageVars are variables the base images define themselves, which
// our Dockerfile may set without internal/config reading them.
var upstreamImageVars = map[string]bool{"PATH": true, "SSL_CERT_FILE": true, "TZ": true}

// binDir is where the Dockerfile installs the binaries.
const binDir = "/usr/local/bin"

func knownVars() map[string]bool {
	m := map[string]bool{}
	for _, v := range config.Vars() {
		m[v] = true
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// subset reports whether every label of sel is in labels (a non-empty sel).
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- commands

// role names what an argv runs: "worker", "starter serve", "starter db", …
func role(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	bin := path.Base(argv[0])
	if bin == "starter" && len(argv) > 1 {
		return "starter " + argv[1]
	}
	return bin
}

// checkArgv checks that argv runs one of our binaries with a real subcommand.
func checkArgv(where string, argv []string) problems {
	var p problems
	if len(argv) == 0 {
		p.addf("%s: no command: say which binary (worker, or starter with a subcommand) to run", where)
		return p
	}
	bin := argv[0]
	if strings.Contains(bin, "/") && path.Dir(bin) != binDir {
		p.addf("%s: %s: the image has its binaries in %s", where, bin, binDir)
	}
	switch path.Base(bin) {
	case "worker":
		if len(argv) > 1 {
			p.addf("%s: worker takes no arguments, got %q", where, argv[1:])
		}
	case "starter":
		if len(argv) < 2 {
			p.addf("%s: starter needs a subcommand (one of %v)", where, sortedKeys(starterCommands))
			return p
		}
		second, ok := starterCommands[argv[1]]
		if !ok {
			p.addf("%s: %q is not a starter subcommand (one of %v)", where, argv[1], sortedKeys(starterCommands))
			return p
		}
		if second != nil && (len(argv) < 3 || !slices.Contains(second, argv[2])) {
			p.addf("%s: starter %s needs one of %v, got %q", where, argv[1], second, argv[2:])
		}
	default:
		p.addf("%s: runs %q, which is neither worker nor starter", where, bin)
	}
	return p
}

// validate runs the config checks the binary run by argv runs at start.
func validate(where string, argv []string, lookup map[string]string) problems {
	var p problems
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := lookup[k]; return v, ok })
	if err != nil {
		p.addf("%s: the settings fail internal/config: %v", where, err)
		return p
	}
	switch role(argv) {
	case "worker":
		err = cfg.ForWorker()
	case "starter serve":
		err = cfg.ForServe()
	}
	if err != nil {
		p.addf("%s: %v", where, err)
	}
	return p
}

// listenAddr returns the port of a LEADFLOW_*_ADDR value and whether it can
// be reached from outside its container (all interfaces).
func listenAddr(addr string) (port string, public bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, err
	}
	return port, host == "" || host == "0.0.0.0" || host == "::", nil
}

// workerShutdownSlack is what a stopping worker needs besides its
// activities' WorkerStopTimeout: the workflow worker's stop, closing the
// Temporal client, the pool and the metrics listener (5 s at most).
const workerShutdownSlack = 15 * time.Second

// checkWorkerGrace: the time the platform gives a worker between SIGTERM
// and SIGKILL (grace; negative when not set) covers the worker's
// LEADFLOW_WORKER_STOP_TIMEOUT (from lookup, else the default) plus
// workerShutdownSlack, so running activities finish instead of being killed.
func checkWorkerGrace(where, name string, grace time.Duration, lookup map[string]string) problems {
	var p problems
	stop := config.DefaultWorkerStopTimeout
	if cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := lookup[k]; return v, ok }); err == nil {
		stop = cfg.WorkerStopTimeout
	}
	if want := stop + workerShutdownSlack; grace < want {
		if grace < 0 {
			p.addf("%s: %s is not set; it must be at least %s (%s=%s, plus %s to shut down)", where, name, want, config.EnvWorkerStopTimeout, stop, workerShutdownSlack)
		} else {
			p.addf("%s: %s is %s; it must be at least %s (%s=%s, plus %s to shut down)", where, name, grace, want, config.EnvWorkerStopTimeout, stop, workerShutdownSlack)
		}
	}
	return p
}

// ---------------------------------------------------------------- compose checks

var requiredServices = []string{
	"postgres", "temporal", "temporal-admin-tools", "temporal-ui",
	"migrate", "directory-import", "worker", "starter",
}

func checkComposeServices(c *composeFile) problems {
	var p problems
	for _, name := range requiredServices {
		if c.Services[name] == nil {
			p.addf("docker-compose.yml: service %q is missing", name)
		}
	}
	if len(p) > 0 {
		return p
	}
	img := func(svc, prefix string) {
		if !strings.HasPrefix(c.Services[svc].Image, prefix) {
			p.addf("docker-compose.yml: %s: image %q, want %s…", svc, c.Services[svc].Image, prefix)
		}
	}
	img("postgres", "postgres:15")
	img("temporal", "temporalio/auto-setup:1.29")
	img("temporal-admin-tools", "temporalio/admin-tools:")
	img("temporal-ui", "temporalio/ui:")
	for _, svc := range []string{"migrate", "directory-import", "worker", "starter"} {
		if !c.Services[svc].ours() {
			p.addf("docker-compose.yml: %s must run the leadflow image (build: .)", svc)
		}
	}
	want := map[string][]string{
		"worker":           {"worker"},
		"starter":          {"starter", "serve"},
		"migrate":          {"starter", "db", "migrate"},
		"directory-import": {"starter", "directory", "import"},
	}
	for svc, w := range want {
		argv := c.Services[svc].argv()
		if len(argv) < len(w) || !slices.Equal(argv[:len(w)], w) {
			p.addf("docker-compose.yml: %s runs %q, want %q…", svc, argv, w)
		}
	}

	// Postgres: persistent, health-checked, and the credentials everyone uses.
	pg := c.Services["postgres"]
	if pg.Healthcheck == nil || !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
		p.addf("docker-compose.yml: postgres needs a pg_isready healthcheck")
	}
	named := false
	for _, v := range pg.Volumes {
		if _, ok := c.Volumes[v.Source]; ok && v.Target == "/var/lib/postgresql/data" {
			named = true
		}
	}
	if !named {
		p.addf("docker-compose.yml: postgres needs a named volume on /var/lib/postgresql/data")
	}
	pgUser, pgPass, pgDB := pg.Environment["POSTGRES_USER"], pg.Environment["POSTGRES_PASSWORD"], pg.Environment["POSTGRES_DB"]
	if pgUser == "" {
		pgUser = "postgres"
	}
	if pgDB == "" {
		pgDB = pgUser
	}

	// Temporal on that Postgres.
	te := c.Services["temporal"].Environment
	for k, v := range map[string]string{"DB": "postgres12", "DB_PORT": "5432", "POSTGRES_SEEDS": "postgres", "POSTGRES_USER": pgUser, "POSTGRES_PWD": pgPass} {
		if te[k] != v {
			p.addf("docker-compose.yml: temporal: %s=%q, want %q", k, te[k], v)
		}
	}
	if c.Services["temporal"].Healthcheck == nil {
		p.addf("docker-compose.yml: temporal needs a healthcheck (the others wait for it)")
	}

	// The UI on the server, published on 8233.
	ui := c.Services["temporal-ui"]
	if ui.Environment["TEMPORAL_ADDRESS"] != "temporal:7233" {
		p.addf("docker-compose.yml: temporal-ui: TEMPORAL_ADDRESS=%q, want temporal:7233", ui.Environment["TEMPORAL_ADDRESS"])
	}
	if !slices.ContainsFunc(ui.Ports, func(x composePort) bool { return x.Host == "8233" && x.Container == "8080" }) {
		p.addf("docker-compose.yml: temporal-ui must publish 8233:8080")
	}

	// Our services reach those two by service name, with those credentials.
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if !s.ours() {
			continue
		}
		if raw, ok := s.Environment[config.EnvDatabaseURL]; ok {
			u, err := url.Parse(interpolate(raw))
			if err != nil {
				p.addf("docker-compose.yml: %s: DATABASE_URL does not parse", name)
			} else {
				pw, _ := u.User.Password()
				if c.Services[u.Hostname()] == nil || u.User.Username() != pgUser || pw != pgPass || strings.TrimPrefix(u.Path, "/") != pgDB {
					p.addf("docker-compose.yml: %s: DATABASE_URL must name service postgres, its user, password and database %q", name, pgDB)
				}
			}
		} else {
			p.addf("docker-compose.yml: %s: DATABASE_URL is not set (the default, 127.0.0.1, is not Postgres inside a container)", name)
		}
		if role(s.argv()) == "worker" || role(s.argv()) == "starter serve" {
			addr := interpolate(s.Environment[config.EnvTemporalAddress])
			host, _, err := net.SplitHostPort(addr)
			if err != nil || c.Services[host] == nil {
				p.addf("docker-compose.yml: %s: TEMPORAL_ADDRESS=%q must be a compose service host:port", name, addr)
			}
		}
	}
	return p
}

// checkComposeEnv: every variable our services set (or read from the host
// through ${…}) is one internal/config reads, and the result validates.
func checkComposeEnv(c *composeFile, known map[string]bool) problems {
	var p problems
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if !s.ours() {
			continue
		}
		lookup := map[string]string{}
		for _, k := range sortedKeys(s.Environment) {
			v := s.Environment[k]
			if !known[k] {
				p.addf("docker-compose.yml: %s sets %s, which internal/config does not read (config.Vars)", name, k)
			}
			for _, iv := range interpolatedVars(v) {
				if !known[iv] {
					p.addf("docker-compose.yml: %s: %s reads ${%s}, which is not a leadflow variable", name, k, iv)
				}
			}
			lookup[k] = interpolate(v)
		}
		p = append(p, validate("docker-compose.yml: "+name, s.argv(), lookup)...)
	}
	return p
}

// checkComposeStopGrace: the worker's stop_grace_period (docker's default
// is 10 s) lets running activities finish.
func checkComposeStopGrace(c *composeFile) problems {
	var p problems
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if !s.ours() || role(s.argv()) != "worker" {
			continue
		}
		grace := 10 * time.Second
		if s.StopGracePeriod != "" {
			d, err := time.ParseDuration(s.StopGracePeriod)
			if err != nil {
				p.addf("docker-compose.yml: %s: stop_grace_period %q is not a duration", name, s.StopGracePeriod)
				continue
			}
			grace = d
		}
		lookup := map[string]string{}
		for k, v := range s.Environment {
			lookup[k] = interpolate(v)
		}
		p = append(p, checkWorkerGrace("docker-compose.yml: "+name, "stop_grace_period", grace, lookup)...)
	}
	return p
}

// checkComposeCommands: our services run a real binary and subcommand.
func checkComposeCommands(c *composeFile) problems {
	var p problems
	for _, name := range sortedKeys(c.Services) {
		if s := c.Services[name]; s.ours() {
			p = append(p, checkArgv("docker-compose.yml: "+name, s.argv())...)
		}
	}
	return p
}

var (
	saCreate = regexp.MustCompile(`search-attribute\s+create\b`)
	saName   = regexp.MustCompile(`--name[=\s]+"?([A-Za-z0-9_]+)"?`)
	saType   = regexp.MustCompile(`--type[=\s]+"?([A-Za-z]+)"?`)
)

// checkComposeSearchAttributes: the admin-tools job registers exactly
// lead.SearchAttributeTypes, idempotently, on the worker's namespace and
// server.
func checkComposeSearchAttributes(c *composeFile) problems {
	var p problems
	at := c.Services["temporal-admin-tools"]
	if at == nil {
		p.addf("docker-compose.yml: no temporal-admin-tools service registers the search attributes")
		return p
	}
	script := strings.Join(at.argv(), "\n")
	got := map[string]string{}
	for _, line := range strings.Split(script, "\n") {
		if !saCreate.MatchString(line) {
			continue
		}
		n, t := saName.FindStringSubmatch(line), saType.FindStringSubmatch(line)
		if n == nil || t == nil {
			p.addf("docker-compose.yml: temporal-admin-tools: cannot read --name and --type in %q", strings.TrimSpace(line))
			continue
		}
		if _, dup := got[n[1]]; dup {
			p.addf("docker-compose.yml: temporal-admin-tools: %s is created twice", n[1])
		}
		got[n[1]] = t[1]
		if !strings.Contains(line[saCreate.FindStringIndex(line)[1]:], "||") {
			p.addf("docker-compose.yml: temporal-admin-tools: creating %s is not idempotent (no `|| …` for an attribute that exists)", n[1])
		}
	}
	want := map[string]string{}
	for _, sa := range lead.SearchAttributeTypes {
		want[sa.Name] = sa.Type
		switch g, ok := got[sa.Name]; {
		case !ok:
			p.addf("docker-compose.yml: temporal-admin-tools does not register search attribute %s (%s)", sa.Name, sa.Type)
		case g != sa.Type:
			p.addf("docker-compose.yml: temporal-admin-tools registers %s as %s, the contract says %s", sa.Name, g, sa.Type)
		}
	}
	for _, n := range sortedKeys(got) {
		if _, ok := want[n]; !ok {
			p.addf("docker-compose.yml: temporal-admin-tools registers %s, which is not in lead.SearchAttributeTypes", n)
		}
	}
	// On the namespace and server the worker uses.
	if w := c.Services["worker"]; w != nil {
		ns := interpolate(w.Environment[config.EnvTemporalNamespace])
		if ns == "" {
			ns = lead.DefaultNamespace
		}
		nsRe := regexp.MustCompile(`(\bns=|--namespace[=\s]+)"?` + regexp.QuoteMeta(ns) + `"?(\s|$)`)
		if !nsRe.MatchString(script) {
			p.addf("docker-compose.yml: temporal-admin-tools does not name the worker's namespace %q", ns)
		}
		addr := interpolate(w.Environment[config.EnvTemporalAddress])
		if at.Environment["TEMPORAL_ADDRESS"] != addr && !strings.Contains(script, "--address "+addr) {
			p.addf("docker-compose.yml: temporal-admin-tools talks to %q, the worker to %q", at.Environment["TEMPORAL_ADDRESS"], addr)
		}
	}
	return p
}

// checkComposePorts: starter publishes the port of LEADFLOW_HTTP_ADDR and
// its LEADFLOW_PUBLIC_URL is that published port; the worker publishes the
// port of LEADFLOW_METRICS_ADDR.
func checkComposePorts(c *composeFile) problems {
	var p problems
	published := func(svc, envName, def string) (hostPort string) {
		s := c.Services[svc]
		if s == nil {
			return ""
		}
		addr := interpolate(s.Environment[envName])
		if addr == "" {
			addr = def
		}
		port, public, err := listenAddr(addr)
		if err != nil {
			p.addf("docker-compose.yml: %s: %s=%q: %v", svc, envName, addr, err)
			return ""
		}
		if !public {
			p.addf("docker-compose.yml: %s: %s=%q listens inside the container only; use 0.0.0.0:%s", svc, envName, addr, port)
		}
		for _, x := range s.Ports {
			if x.Container == port && x.Host != "" {
				return x.Host
			}
		}
		p.addf("docker-compose.yml: %s: %s listens on port %s, but the service does not publish it (ports: %v)", svc, envName, port, s.Ports)
		return ""
	}
	if host := published("starter", config.EnvHTTPAddr, config.DefaultHTTPAddr); host != "" {
		pub := interpolate(c.Services["starter"].Environment[config.EnvPublicURL])
		u, err := url.Parse(pub)
		if err != nil || u.Port() != host {
			p.addf("docker-compose.yml: starter: LEADFLOW_PUBLIC_URL=%q, but the API is published on host port %s", pub, host)
		}
	}
	published("worker", config.EnvMetricsAddr, config.DefaultMetricsAddr)
	return p
}

// composeSecrets are the settings that must come from the operator, never
// from a default in the file (a default is a secret everyone knows).
var composeSecrets = []string{
	config.EnvWebhookSecret, config.EnvIDKey, config.EnvAPIToken,
	config.EnvHubSpotClientSecret, config.EnvNurtureWebhookSecret, config.EnvHubSpotToken,
}

var requiredVar = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}$`)

// checkComposeExposure: nothing is published beyond loopback, the API is
// not open (starter requires LEADFLOW_API_TOKEN), and every secret is
// required from the host (${X:?…}) rather than given a value or default.
func checkComposeExposure(c *composeFile) problems {
	var p problems
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		for _, x := range s.Ports {
			if x.HostIP != "127.0.0.1" {
				p.addf("docker-compose.yml: %s publishes %s:%s on all interfaces; publish it on 127.0.0.1 only (\"127.0.0.1:%s:%s\")", name, x.Host, x.Container, x.Host, x.Container)
			}
		}
		if !s.ours() {
			continue
		}
		for _, k := range composeSecrets {
			v, ok := s.Environment[k]
			if !ok {
				continue
			}
			if m := requiredVar.FindStringSubmatch(v); m == nil || m[1] != k {
				p.addf("docker-compose.yml: %s: %s=%q: a secret must be required from the host as ${%s:?…}, with no value or default in the file", name, k, v, k)
			}
		}
		if role(s.argv()) == "starter serve" {
			if _, ok := s.Environment[config.EnvAPIToken]; !ok {
				p.addf("docker-compose.yml: %s: %s is not set: the API would be open to anyone who reaches the port", name, config.EnvAPIToken)
			}
		}
	}
	return p
}

// checkComposeDependencies: start order waits for health and for the
// one-shot jobs, and the conditions can be met.
func checkComposeDependencies(c *composeFile) problems {
	var p problems
	want := map[string]map[string]string{
		"worker":           {"postgres": "service_healthy", "temporal-admin-tools": "service_completed_successfully"},
		"starter":          {"postgres": "service_healthy", "temporal-admin-tools": "service_completed_successfully"},
		"directory-import": {"postgres": "service_healthy"},
		"migrate":          {"postgres": "service_healthy"},
	}
	for _, svc := range sortedKeys(want) {
		s := c.Services[svc]
		if s == nil {
			continue
		}
		for _, dep := range sortedKeys(want[svc]) {
			if got := s.DependsOn[dep]; got != want[svc][dep] {
				p.addf("docker-compose.yml: %s must depend on %s with condition %s (got %q)", svc, dep, want[svc][dep], got)
			}
		}
	}
	for _, name := range sortedKeys(c.Services) {
		for _, dep := range sortedKeys(c.Services[name].DependsOn) {
			target := c.Services[dep]
			if target == nil {
				p.addf("docker-compose.yml: %s depends on %s, which is not a service", name, dep)
				continue
			}
			switch c.Services[name].DependsOn[dep] {
			case "service_healthy":
				if target.Healthcheck == nil {
					p.addf("docker-compose.yml: %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			case "service_completed_successfully":
				if r := target.Restart; r != "" && r != "no" && r != "on-failure" {
					p.addf("docker-compose.yml: %s waits for %s to complete, but %s has restart: %s", name, dep, dep, r)
				}
			}
		}
	}
	return p
}

// checkComposeImagePaths: the absolute paths our services name (arguments,
// LEADFLOW_POLICY) exist in the image or are mounted.
func checkComposeImagePaths(c *composeFile, inImage map[string]string) problems {
	var p problems
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if !s.ours() {
			continue
		}
		var paths []string
		for _, a := range s.argv()[min(1, len(s.argv())):] {
			if strings.HasPrefix(a, "/") {
				paths = append(paths, a)
			}
		}
		if v := interpolate(s.Environment[config.EnvPolicy]); v != "" {
			paths = append(paths, v)
		}
		for _, f := range paths {
			mounted := slices.ContainsFunc(s.Volumes, func(v composeVolume) bool { return v.Target == f || strings.HasPrefix(f, v.Target+"/") })
			if _, ok := inImage[f]; !ok && !mounted {
				p.addf("docker-compose.yml: %s uses %s, which is neither in the image (Dockerfile COPY) nor mounted", name, f)
			}
		}
	}
	return p
}

// checkTemporalDynamicConfig: the temporal service loads
// deploy/temporal/dynamicconfig.yaml, and it turns eager activities on.
func checkTemporalDynamicConfig(c *composeFile, read func(rel string) ([]byte, error)) problems {
	var p problems
	t := c.Services["temporal"]
	if t == nil {
		return p
	}
	dc := t.Environment["DYNAMIC_CONFIG_FILE_PATH"]
	if dc == "" {
		p.addf("docker-compose.yml: temporal: DYNAMIC_CONFIG_FILE_PATH is not set")
		return p
	}
	if !path.IsAbs(dc) {
		dc = path.Join("/etc/temporal", dc) // the image's working directory
	}
	var src string
	for _, v := range t.Volumes {
		if v.Target == dc {
			src = v.Source
		}
	}
	if src != "./deploy/temporal/dynamicconfig.yaml" && src != "deploy/temporal/dynamicconfig.yaml" {
		p.addf("docker-compose.yml: temporal: %s must be mounted from ./deploy/temporal/dynamicconfig.yaml (got %q)", dc, src)
		return p
	}
	b, err := read(strings.TrimPrefix(src, "./"))
	if err != nil {
		p.addf("%s: %v", src, err)
		return p
	}
	var m map[string][]struct {
		Value       any `yaml:"value"`
		Constraints any `yaml:"constraints"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		p.addf("%s: %v", src, err)
		return p
	}
	for k, vs := range m {
		if len(vs) == 0 {
			p.addf("%s: %s has no value", src, k)
		}
	}
	e := m["system.enableActivityEagerExecution"]
	if len(e) == 0 || e[0].Value != true {
		p.addf("%s: system.enableActivityEagerExecution must be true", src)
	}
	return p
}

// ---------------------------------------------------------------- Dockerfile checks

func checkDockerfile(stages []*dockerStage, known map[string]bool, exists func(rel string) bool) problems {
	var p problems
	if len(stages) < 2 {
		p.addf("Dockerfile: want a build stage and a runtime stage, got %d stage(s)", len(stages))
		return p
	}
	if !strings.HasPrefix(stages[0].From, "golang:1.26") {
		p.addf("Dockerfile: build stage FROM %s, want golang:1.26", stages[0].From)
	}
	built := false
	for _, st := range stages[:len(stages)-1] {
		cgoOff := false
		for _, in := range st.Instrs {
			if in.Cmd == "ENV" && envNames(in.Args)["CGO_ENABLED"] == "0" {
				cgoOff = true
			}
			if in.Cmd != "RUN" || !strings.Contains(in.Args, "go build") {
				continue
			}
			f := strings.Fields(in.Args)
			if slices.Contains(f, "./worker") && slices.Contains(f, "./starter") && slices.Contains(f, "-trimpath") &&
				(cgoOff || strings.Contains(in.Args, "CGO_ENABLED=0")) {
				built = true
			}
		}
	}
	if !built {
		p.addf("Dockerfile: no `go build -trimpath … ./worker ./starter` with CGO_ENABLED=0")
	}
	final := stages[len(stages)-1]
	if final.From != "gcr.io/distroless/static-debian12:nonroot" {
		p.addf("Dockerfile: runtime FROM %s, want gcr.io/distroless/static-debian12:nonroot", final.From)
	}
	files := imageFiles(stages)
	for _, bin := range []string{"worker", "starter"} {
		src, ok := files[path.Join(binDir, bin)]
		if !ok || !strings.Contains(src, ":") || path.Base(src) != bin {
			p.addf("Dockerfile: %s/%s is not copied from the build stage", binDir, bin)
		}
	}
	for dst, src := range map[string]string{"/etc/leadflow/policy.yaml": "deploy/policy.yaml", "/etc/leadflow/directory.yaml": "deploy/directory.yaml"} {
		if files[dst] != src {
			p.addf("Dockerfile: want COPY %s %s", src, dst)
		}
	}
	for dst, src := range files {
		if !strings.Contains(src, ":") && !exists(src) {
			p.addf("Dockerfile: COPY %s (to %s): no such file in the repository", src, dst)
		}
	}
	env := map[string]string{}
	user := ""
	for _, in := range final.Instrs {
		switch in.Cmd {
		case "ENV":
			for k, v := range envNames(in.Args) {
				env[k] = v
				if !known[k] && !upstreamImageVars[k] {
					p.addf("Dockerfile line %d: ENV %s, which internal/config does not read", in.Line, k)
				}
			}
		case "USER":
			user = in.Args
		case "ENTRYPOINT":
			p.addf("Dockerfile line %d: no ENTRYPOINT: compose and Kubernetes commands name the binary", in.Line)
		}
	}
	if v := env[config.EnvPolicy]; v != "/etc/leadflow/policy.yaml" {
		p.addf("Dockerfile: ENV LEADFLOW_POLICY=%q, want /etc/leadflow/policy.yaml", v)
	} else if _, ok := files[v]; !ok {
		p.addf("Dockerfile: LEADFLOW_POLICY=%s is not in the image", v)
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		p.addf("Dockerfile: the runtime stage must run as a non-root USER (got %q)", user)
	}
	return p
}

// dockerignoreRe turns a .dockerignore pattern into a regexp over
// slash-separated paths (**, *, ? as Docker reads them).
func dockerignoreRe(pattern string) *regexp.Regexp {
	pattern = strings.TrimSuffix(strings.TrimPrefix(path.Clean("/"+pattern), "/"), "/")
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(".*")
			i++
			if i+1 < len(pattern) && pattern[i+1] == '/' {
				b.WriteString("/?")
				i++
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("(/.*)?$") // a directory excludes what it holds
	return regexp.MustCompile(b.String())
}

// checkDockerignore: the build context keeps what the build needs.
func checkDockerignore(content string, needed []string) problems {
	var p problems
	type rule struct {
		re     *regexp.Regexp
		negate bool
		text   string
	}
	var rules []rule
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		rules = append(rules, rule{dockerignoreRe(strings.TrimPrefix(line, "!")), neg, line})
	}
	for _, f := range needed {
		excluded, by := false, ""
		for _, r := range rules {
			if r.re.MatchString(f) {
				excluded, by = !r.negate, r.text
			}
		}
		if excluded {
			p.addf(".dockerignore: %q excludes %s, which the image build needs", by, f)
		}
	}
	return p
}

// contextNeeds lists what `docker build` needs from the context.
var contextNeeds = []string{
	"go.mod", "go.sum", "worker/main.go", "starter/main.go", "internal/config/config.go",
	"internal/store/migrations/x.sql", "workflows/x.go", "activities/x.go",
	"deploy/policy.yaml", "deploy/directory.yaml",
}

// ---------------------------------------------------------------- Kubernetes checks

// ourImages are the image names the manifests use for leadflow containers.
func (s *k8sSet) ourImages() []string {
	out := []string{"leadflow"}
	for _, im := range s.Kustomization.Images {
		out = append(out, im.Name)
	}
	return out
}

func (s *k8sSet) isOurs(image string) bool {
	name, _, _ := strings.Cut(image, ":")
	return slices.Contains(s.ourImages(), name)
}

// configMapKeys returns the keys of a ConfigMap the kustomization deploys
// (a resource or a generator), or nil when it deploys none of that name.
func (s *k8sSet) configMapKeys(name string) map[string]string {
	if g, ok := s.generated()[name]; ok {
		return g
	}
	if o := s.find("ConfigMap", name, false); o != nil {
		out := map[string]string{}
		for k, v := range o.Data {
			out[k] = v
		}
		return out
	}
	return nil
}

// secretKeys returns the keys of a Secret, deployed or only documented in an
// example file (secrets are created out of band).
func (s *k8sSet) secretKeys(name string) map[string]string {
	o := s.find("Secret", name, true)
	if o == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range o.Data {
		out[k] = v
	}
	for k, v := range o.StringData {
		out[k] = v
	}
	return out
}

func checkKustomization(s *k8sSet, deployDir string) problems {
	var p problems
	k := s.Kustomization
	if k.Kind != "Kustomization" {
		p.addf("deploy/k8s/kustomization.yaml: kind %q, want Kustomization", k.Kind)
	}
	if k.Namespace != "leadflow" {
		p.addf("deploy/k8s/kustomization.yaml: namespace %q, want leadflow", k.Namespace)
	}
	files := map[string]bool{}
	for _, o := range s.Objects {
		files[o.File] = true
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(s.Dir, r)); err != nil {
			p.addf("deploy/k8s/kustomization.yaml: resource %s: %v", r, err)
		}
		if strings.Contains(r, "example") {
			p.addf("deploy/k8s/kustomization.yaml: lists %s: examples must not be deployed", r)
		}
	}
	for _, f := range sortedKeys(files) {
		if !strings.Contains(f, "/") && !strings.Contains(f, "example") && !s.isResource(f) {
			p.addf("deploy/k8s/%s is not listed in kustomization.yaml resources", f)
		}
	}
	ns := s.find("Namespace", "leadflow", false)
	if ns == nil {
		p.addf("deploy/k8s: no Namespace leadflow among the resources")
	}
	// The generators read the shipped files, one directory up.
	gen := s.generated()
	for name, want := range map[string]string{"leadflow-policy": "policy.yaml", "leadflow-directory": "directory.yaml"} {
		keys, ok := gen[name]
		if !ok {
			p.addf("deploy/k8s/kustomization.yaml: no configMapGenerator %s", name)
			continue
		}
		src, ok := keys[want]
		if !ok {
			p.addf("deploy/k8s/kustomization.yaml: configMapGenerator %s has no key %s", name, want)
			continue
		}
		if src != "../"+want {
			p.addf("deploy/k8s/kustomization.yaml: configMapGenerator %s reads %s, want ../%s", name, src, want)
		}
		abs := filepath.Clean(filepath.Join(s.Dir, src))
		if abs != filepath.Join(deployDir, want) {
			p.addf("deploy/k8s/kustomization.yaml: %s resolves to %s, not deploy/%s", src, abs, want)
		} else if _, err := os.Stat(abs); err != nil {
			p.addf("deploy/k8s/kustomization.yaml: %s: %v", src, err)
		}
	}
	// Examples are documentation: they may name only real settings too, and
	// leadflow-secrets must show the secrets the processes need.
	sec := s.secretKeys("leadflow-secrets")
	if sec == nil {
		p.addf("deploy/k8s: no Secret leadflow-secrets (secret.example.yaml) shows the secret keys")
	}
	for _, want := range []string{config.EnvWebhookSecret, config.EnvIDKey, config.EnvAPIToken, config.EnvDatabaseURL} {
		if _, ok := sec[want]; sec != nil && !ok {
			p.addf("deploy/k8s: Secret leadflow-secrets example lacks %s", want)
		}
	}
	for _, k := range sortedKeys(sec) {
		if !strings.Contains(sec[k], placeholder) {
			p.addf("deploy/k8s: Secret leadflow-secrets example: %s must be a %q placeholder, never a real or usable value", k, placeholder)
		}
	}
	for _, o := range s.objects("Secret", false) {
		p.addf("%s: a Secret must not be deployed from the repository", o)
	}
	if len(k.SecretGenerator) > 0 {
		p.addf("deploy/k8s/kustomization.yaml: a secretGenerator would deploy secrets from the repository; create leadflow-secrets out of band (deploy/README.md)")
	}
	return p
}

// placeholder is how the example Secret writes every value.
const placeholder = "change-me"

// secretStandIn is the value a check validates for a secret the operator
// supplies (the example's placeholder, compose's ${X:?…}): the real one is
// unknown here, and serve and the worker hold it to config.MinSecretBytes
// when they start.
func secretStandIn(v string) string {
	if v == placeholder {
		return strings.Repeat("s", config.MinSecretBytes)
	}
	return v
}

// portOf resolves a probe or Service target port (a number or a port name)
// against a container.
func portOf(c *container, port any) int {
	switch v := port.(type) {
	case int:
		return v
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		for _, cp := range c.Ports {
			if cp.Name == v {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

// checkK8sWorkloads checks every container of our image in the Deployments
// and Jobs the kustomization deploys.
func checkK8sWorkloads(s *k8sSet, known map[string]bool, inImage map[string]string) problems {
	var p problems
	roles := map[string]int{}
	for _, kind := range []string{"Deployment", "Job"} {
		for _, o := range s.objects(kind, false) {
			w := o.Workload
			pod := &w.Template.Spec
			if kind == "Deployment" {
				if !subset(w.Selector.MatchLabels, w.Template.Metadata.Labels) {
					p.addf("%s: selector %v does not match the pod labels %v", o, w.Selector.MatchLabels, w.Template.Metadata.Labels)
				}
			} else if pod.RestartPolicy != "OnFailure" && pod.RestartPolicy != "Never" {
				p.addf("%s: a Job needs restartPolicy OnFailure or Never", o)
			}
			volumes := map[string]int{}
			for i, v := range pod.Volumes {
				volumes[v.Name] = i
				if v.ConfigMap != nil && s.configMapKeys(v.ConfigMap.Name) == nil {
					p.addf("%s: volume %s: ConfigMap %s is not deployed by the kustomization", o, v.Name, v.ConfigMap.Name)
				}
				if v.Secret != nil && s.secretKeys(v.Secret.SecretName) == nil {
					p.addf("%s: volume %s: Secret %s is not shown in secret.example.yaml", o, v.Name, v.Secret.SecretName)
				}
			}
			for ci := range pod.Containers {
				c := &pod.Containers[ci]
				if !s.isOurs(c.Image) {
					continue
				}
				where := o.String() + " container " + c.Name
				argv := c.argv()
				p = append(p, checkArgv(where, argv)...)
				r := role(argv)
				roles[r]++

				// Environment: every name known; the whole validates.
				lookup := map[string]string{}
				fromConfigMap := map[string]bool{}
				for _, ef := range c.EnvFrom {
					switch {
					case ef.ConfigMapRef != nil:
						keys := s.configMapKeys(ef.ConfigMapRef.Name)
						if keys == nil {
							p.addf("%s: envFrom ConfigMap %s is not deployed by the kustomization", where, ef.ConfigMapRef.Name)
						}
						for _, k := range sortedKeys(keys) {
							if !known[k] {
								p.addf("%s: ConfigMap %s sets %s, which internal/config does not read", where, ef.ConfigMapRef.Name, k)
							}
							lookup[k] = keys[k]
							fromConfigMap[k] = true
						}
					case ef.SecretRef != nil:
						keys := s.secretKeys(ef.SecretRef.Name)
						if keys == nil {
							p.addf("%s: envFrom Secret %s is not shown in secret.example.yaml", where, ef.SecretRef.Name)
						}
						for _, k := range sortedKeys(keys) {
							if !known[k] {
								p.addf("%s: Secret %s sets %s, which internal/config does not read", where, ef.SecretRef.Name, k)
							}
							lookup[k] = secretStandIn(keys[k])
							delete(fromConfigMap, k)
						}
					}
				}
				for _, e := range c.Env {
					if !known[e.Name] {
						p.addf("%s: env %s, which internal/config does not read", where, e.Name)
					}
					if e.ValueFrom == nil {
						lookup[e.Name] = e.Value
					}
					delete(fromConfigMap, e.Name)
				}
				p = append(p, validate(where, argv, lookup)...)
				if r == "worker" || r == "starter serve" {
					for _, k := range []string{config.EnvTemporalAddress, config.EnvTemporalNamespace} {
						if !fromConfigMap[k] {
							p.addf("%s: %s must come from a ConfigMap (envFrom)", where, k)
						}
					}
				}

				// Files: policy and command arguments exist in a mount or the image.
				mountedFile := func(f string) (bool, string) {
					for _, m := range c.VolumeMounts {
						rest, ok := strings.CutPrefix(f, strings.TrimSuffix(m.MountPath, "/")+"/")
						if !ok {
							continue
						}
						vi, ok := volumes[m.Name]
						if !ok {
							return true, "volume " + m.Name + " is not declared"
						}
						v := pod.Volumes[vi]
						switch {
						case v.ConfigMap != nil:
							if _, ok := s.configMapKeys(v.ConfigMap.Name)[rest]; !ok {
								return true, "ConfigMap " + v.ConfigMap.Name + " has no key " + rest
							}
						case v.Secret != nil:
							if _, ok := s.secretKeys(v.Secret.SecretName)[rest]; !ok {
								return true, "Secret " + v.Secret.SecretName + " has no key " + rest
							}
						}
						return true, ""
					}
					return false, ""
				}
				var paths []string
				for _, a := range argv[min(1, len(argv)):] {
					if strings.HasPrefix(a, "/") {
						paths = append(paths, a)
					}
				}
				for _, k := range []string{config.EnvPolicy, config.EnvTemporalTLSCert, config.EnvTemporalTLSKey, config.EnvTemporalTLSCA} {
					if v := lookup[k]; v != "" {
						paths = append(paths, v)
					}
				}
				for _, f := range paths {
					if mounted, why := mountedFile(f); mounted {
						if why != "" {
							p.addf("%s: uses %s, but %s", where, f, why)
						}
					} else if _, ok := inImage[f]; !ok {
						p.addf("%s: uses %s, which is neither mounted nor in the image", where, f)
					}
				}
				for _, m := range c.VolumeMounts {
					if _, ok := volumes[m.Name]; !ok {
						p.addf("%s: volumeMount %s: no such volume", where, m.Name)
					}
				}

				// Hardening.
				nonRoot := (pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot) ||
					(c.SecurityContext.RunAsNonRoot != nil && *c.SecurityContext.RunAsNonRoot)
				if !nonRoot {
					p.addf("%s: needs runAsNonRoot: true", where)
				}
				if c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
					p.addf("%s: needs readOnlyRootFilesystem: true", where)
				}
				if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
					p.addf("%s: needs allowPrivilegeEscalation: false", where)
				}
				if len(c.Resources.Requests) == 0 {
					p.addf("%s: needs resource requests", where)
				}

				// The long-running processes.
				switch r {
				case "worker", "starter serve":
					if kind != "Deployment" {
						p.addf("%s: %s must run as a Deployment", where, r)
						continue
					}
					if w.Replicas == nil || *w.Replicas < 2 {
						p.addf("%s: want at least 2 replicas", where)
					}
					// Both: liveness is the process, readiness its dependencies.
					envName, def, live, ready := config.EnvMetricsAddr, config.DefaultMetricsAddr, "/healthz", []string{"/readyz"}
					if r == "starter serve" {
						envName, def = config.EnvHTTPAddr, config.DefaultHTTPAddr
					}
					if r == "worker" {
						grace := time.Duration(-1)
						if g := pod.TerminationGracePeriodSeconds; g != nil {
							grace = time.Duration(*g) * time.Second
						}
						p = append(p, checkWorkerGrace(where, "terminationGracePeriodSeconds", grace, lookup)...)
					}
					addr := lookup[envName]
					if addr == "" {
						addr = def
					}
					portStr, public, err := listenAddr(addr)
					if err != nil {
						p.addf("%s: %s=%q: %v", where, envName, addr, err)
						continue
					}
					if !public {
						p.addf("%s: %s=%q is not reachable from outside the pod; use 0.0.0.0:%s", where, envName, addr, portStr)
					}
					port, _ := strconv.Atoi(portStr)
					if !slices.ContainsFunc(c.Ports, func(cp containerPort) bool { return cp.ContainerPort == port }) {
						p.addf("%s: %s listens on %d, which is not a containerPort", where, envName, port)
					}
					for _, pr := range []struct {
						name  string
						probe *probe
						paths []string
					}{{"livenessProbe", c.LivenessProbe, []string{live}}, {"readinessProbe", c.ReadinessProbe, ready}} {
						if pr.probe == nil || pr.probe.HTTPGet == nil {
							p.addf("%s: needs an httpGet %s", where, pr.name)
							continue
						}
						if !slices.Contains(pr.paths, pr.probe.HTTPGet.Path) {
							p.addf("%s: %s path %s, want one of %v", where, pr.name, pr.probe.HTTPGet.Path, pr.paths)
						}
						if got := portOf(c, pr.probe.HTTPGet.Port); got != port {
							p.addf("%s: %s probes port %d, but %s listens on %d", where, pr.name, got, envName, port)
						}
					}
					if r == "starter serve" {
						served := false
						for _, svc := range s.objects("Service", false) {
							if !subset(svc.Service.Selector, w.Template.Metadata.Labels) {
								continue
							}
							for _, sp := range svc.Service.Ports {
								tp := sp.TargetPort
								if tp == nil {
									tp = sp.Port
								}
								if portOf(c, tp) == port {
									served = true
								}
							}
						}
						if !served {
							p.addf("%s: no Service sends traffic to port %d of these pods", where, port)
						}
					}
				}
			}
		}
	}
	for _, want := range []string{"worker", "starter serve", "starter db", "starter directory"} {
		if roles[want] == 0 {
			p.addf("deploy/k8s: nothing runs %q", want)
		}
	}
	return p
}

// checkK8sDisruptionBudgets: each Deployment has exactly one PDB and each PDB
// covers a Deployment.
func checkK8sDisruptionBudgets(s *k8sSet) problems {
	var p problems
	deps := s.objects("Deployment", false)
	pdbs := s.objects("PodDisruptionBudget", false)
	for _, d := range deps {
		n := 0
		for _, b := range pdbs {
			if subset(b.PDB.Selector.MatchLabels, d.Workload.Template.Metadata.Labels) {
				n++
			}
		}
		if n != 1 {
			p.addf("%s: covered by %d PodDisruptionBudgets, want 1", d, n)
		}
	}
	for _, b := range pdbs {
		n := 0
		for _, d := range deps {
			if subset(b.PDB.Selector.MatchLabels, d.Workload.Template.Metadata.Labels) {
				n++
			}
		}
		if n != 1 {
			p.addf("%s: selects the pods of %d Deployments, want 1", b, n)
		}
		if b.PDB.MinAvailable == nil && b.PDB.MaxUnavailable == nil {
			p.addf("%s: needs minAvailable or maxUnavailable", b)
		}
	}
	return p
}

// ---------------------------------------------------------------- the tests

type fixture struct {
	root    string
	known   map[string]bool
	stages  []*dockerStage
	inImage map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := repoRoot(t)
	stages, err := parseDockerfile(readFile(t, filepath.Join(root, "Dockerfile")))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return &fixture{root: root, known: knownVars(), stages: stages, inImage: imageFiles(stages)}
}

func (f *fixture) read(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(f.root, rel)) }

func (f *fixture) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(f.root, rel))
	return err == nil
}

func expectNone(t *testing.T, p problems) {
	t.Helper()
	for _, s := range p {
		t.Error(s)
	}
}

func TestCompose(t *testing.T) {
	f := newFixture(t)
	c := loadCompose(t)
	t.Run("services", func(t *testing.T) { expectNone(t, checkComposeServices(c)) })
	t.Run("env", func(t *testing.T) { expectNone(t, checkComposeEnv(c, f.known)) })
	t.Run("commands", func(t *testing.T) { expectNone(t, checkComposeCommands(c)) })
	t.Run("search attributes", func(t *testing.T) { expectNone(t, checkComposeSearchAttributes(c)) })
	t.Run("ports", func(t *testing.T) { expectNone(t, checkComposePorts(c)) })
	t.Run("exposure", func(t *testing.T) { expectNone(t, checkComposeExposure(c)) })
	t.Run("dependencies", func(t *testing.T) { expectNone(t, checkComposeDependencies(c)) })
	t.Run("worker stop grace", func(t *testing.T) { expectNone(t, checkComposeStopGrace(c)) })
	t.Run("image paths", func(t *testing.T) { expectNone(t, checkComposeImagePaths(c, f.inImage)) })
	t.Run("temporal dynamic config", func(t *testing.T) { expectNone(t, checkTemporalDynamicConfig(c, f.read)) })
}

func TestDockerfile(t *testing.T) {
	f := newFixture(t)
	expectNone(t, checkDockerfile(f.stages, f.known, f.exists))
	expectNone(t, checkDockerignore(string(readFile(t, filepath.Join(f.root, ".dockerignore"))), contextNeeds))
}

func TestKubernetes(t *testing.T) {
	f := newFixture(t)
	s := loadK8sSet(t)
	t.Run("kustomization", func(t *testing.T) { expectNone(t, checkKustomization(s, filepath.Join(f.root, "deploy"))) })
	t.Run("workloads", func(t *testing.T) { expectNone(t, checkK8sWorkloads(s, f.known, f.inImage)) })
	t.Run("disruption budgets", func(t *testing.T) { expectNone(t, checkK8sDisruptionBudgets(s)) })
}

// TestParsers pins the parsing the checks rely on.
func TestParsers(t *testing.T) {
	if got := interpolatedVars("${A:-x} $B $$C ${D}"); !slices.Equal(got, []string{"A", "B", "D"}) {
		t.Errorf("interpolatedVars: %v", got)
	}
	if got := interpolate("${A:-dev-a}/${B-b}/${C}/$$x"); got != "dev-a/b//$x" {
		t.Errorf("interpolate: %q", got)
	}
	c, err := parseCompose([]byte(`
x-env: &env
  A: "1"
services:
  s:
    build: .
    command: starter serve
    environment:
      <<: *env
      B: two
    ports: ["127.0.0.1:81:80/tcp", "9090", {target: 8080, published: "8081"}]
    depends_on: [db]
  db:
    image: postgres:15
    environment: ["POSTGRES_DB=x"]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Services["s"]
	if !s.ours() || !slices.Equal(s.argv(), []string{"starter", "serve"}) || s.Environment["A"] != "1" || s.Environment["B"] != "two" {
		t.Errorf("service: %+v", s)
	}
	if want := []composePort{{"127.0.0.1", "81", "80"}, {"", "", "9090"}, {"", "8081", "8080"}}; !slices.Equal(s.Ports, want) {
		t.Errorf("ports: %+v", s.Ports)
	}
	if s.DependsOn["db"] != "service_started" || c.Services["db"].Environment["POSTGRES_DB"] != "x" {
		t.Errorf("db: %+v %+v", s.DependsOn, c.Services["db"])
	}
	for pattern, cases := range map[string]map[string]bool{
		"deploy/k8s": {"deploy/k8s/x.yaml": true, "deploy/policy.yaml": false},
		"*.yaml":     {"a.yaml": true, "deploy/policy.yaml": false},
		"**/*.yaml":  {"deploy/policy.yaml": true, "a.yaml": true},
		"/bin/":      {"bin/x": true, "internal/bin": false},
	} {
		re := dockerignoreRe(pattern)
		for p, want := range cases {
			if re.MatchString(p) != want {
				t.Errorf("dockerignore %q on %s: want %v", pattern, p, want)
			}
		}
	}
}

// TestChecksCatchMistakes breaks a copy of each file in one way at a time and
// expects the checks to say so: a check that cannot fail proves nothing.
func TestChecksCatchMistakes(t *testing.T) {
	f := newFixture(t)

	composeCases := []struct {
		name   string
		mutate func(c *composeFile)
		check  func(c *composeFile) problems
		want   string
	}{
		{"unknown env var", func(c *composeFile) { c.Services["starter"].Environment["LEADFLOW_NO_SUCH_SETTING"] = "1" },
			func(c *composeFile) problems { return checkComposeEnv(c, f.known) }, "LEADFLOW_NO_SUCH_SETTING"},
		{"unknown interpolated var", func(c *composeFile) { c.Services["worker"].Environment["LEADFLOW_ID_KEY"] = "${DEV_KEY:-x}" },
			func(c *composeFile) problems { return checkComposeEnv(c, f.known) }, "DEV_KEY"},
		{"invalid value", func(c *composeFile) { c.Services["worker"].Environment["LEADFLOW_CRM"] = "salesforce" },
			func(c *composeFile) problems { return checkComposeEnv(c, f.known) }, "LEADFLOW_CRM"},
		{"serve without webhook secret", func(c *composeFile) { delete(c.Services["starter"].Environment, "LEADFLOW_WEBHOOK_SECRET") },
			func(c *composeFile) problems { return checkComposeEnv(c, f.known) }, "LEADFLOW_WEBHOOK_SECRET"},
		{"missing service", func(c *composeFile) { delete(c.Services, "temporal-ui") }, checkComposeServices, "temporal-ui"},
		{"DATABASE_URL wrong password", func(c *composeFile) {
			c.Services["worker"].Environment["DATABASE_URL"] = "postgres://postgres:nope@postgres:5432/leadflow?sslmode=disable"
		}, checkComposeServices, "DATABASE_URL"},
		{"unknown subcommand", func(c *composeFile) { c.Services["starter"].Command = strList{"starter", "serv"} }, checkComposeCommands, `"serv"`},
		{"unknown second word", func(c *composeFile) { c.Services["migrate"].Command = strList{"starter", "db", "up"} }, checkComposeCommands, "starter db"},
		{"missing search attribute", func(c *composeFile) { editAdminScript(c, "--name LeadScore --type Int", "--type Int") },
			checkComposeSearchAttributes, "LeadScore"},
		{"wrong search attribute type", func(c *composeFile) {
			editAdminScript(c, "--name SLADueAt --type Datetime", "--name SLADueAt --type Keyword")
		},
			checkComposeSearchAttributes, "SLADueAt as Keyword"},
		{"extra search attribute", func(c *composeFile) {
			editAdminScript(c, "temporal operator search-attribute list", "temporal operator search-attribute create --name Extra --type Int || true\ntemporal operator search-attribute list")
		}, checkComposeSearchAttributes, "Extra"},
		{"not idempotent", func(c *composeFile) { editAdminScript(c, "--type Bool || check SLABreached Bool", "--type Bool") },
			checkComposeSearchAttributes, "SLABreached is not idempotent"},
		{"starter port not published", func(c *composeFile) { c.Services["starter"].Environment["LEADFLOW_HTTP_ADDR"] = "0.0.0.0:8081" },
			checkComposePorts, "port 8081"},
		{"starter on loopback", func(c *composeFile) { c.Services["starter"].Environment["LEADFLOW_HTTP_ADDR"] = "127.0.0.1:8080" },
			checkComposePorts, "inside the container"},
		{"UI on all interfaces", func(c *composeFile) {
			c.Services["temporal-ui"].Ports = []composePort{{Host: "8233", Container: "8080"}}
		},
			checkComposeExposure, "temporal-ui publishes 8233:8080 on all interfaces"},
		{"API published on all interfaces", func(c *composeFile) {
			c.Services["starter"].Ports = []composePort{{HostIP: "0.0.0.0", Host: "8080", Container: "8080"}}
		}, checkComposeExposure, "starter publishes 8080:8080 on all interfaces"},
		{"API open", func(c *composeFile) { delete(c.Services["starter"].Environment, "LEADFLOW_API_TOKEN") },
			checkComposeExposure, "LEADFLOW_API_TOKEN is not set"},
		{"secret with a default", func(c *composeFile) {
			c.Services["worker"].Environment["LEADFLOW_ID_KEY"] = "${LEADFLOW_ID_KEY:-dev-id-key}"
		},
			checkComposeExposure, "worker: LEADFLOW_ID_KEY"},
		{"secret written in the file", func(c *composeFile) {
			c.Services["starter"].Environment["LEADFLOW_API_TOKEN"] = "0123456789abcdef0123456789abcdef"
		}, checkComposeExposure, "starter: LEADFLOW_API_TOKEN"},
		{"secret required under another name", func(c *composeFile) {
			c.Services["starter"].Environment["LEADFLOW_WEBHOOK_SECRET"] = "${LEADFLOW_ID_KEY:?set it}"
		}, checkComposeExposure, "starter: LEADFLOW_WEBHOOK_SECRET"},
		{"metrics port not published", func(c *composeFile) { c.Services["worker"].Ports = []composePort{{Host: "9091", Container: "9091"}} },
			checkComposePorts, "LEADFLOW_METRICS_ADDR listens on port 9090"},
		{"starts before search attributes", func(c *composeFile) { c.Services["worker"].DependsOn["temporal-admin-tools"] = "service_started" },
			checkComposeDependencies, "temporal-admin-tools"},
		{"worker grace below its stop timeout", func(c *composeFile) { c.Services["worker"].Environment["LEADFLOW_WORKER_STOP_TIMEOUT"] = "2m" },
			checkComposeStopGrace, "stop_grace_period is 1m0s; it must be at least 2m15s"},
		{"worker default grace", func(c *composeFile) { c.Services["worker"].StopGracePeriod = "" },
			checkComposeStopGrace, "stop_grace_period is 10s"},
		{"healthy without healthcheck", func(c *composeFile) { c.Services["postgres"].Healthcheck = nil },
			checkComposeDependencies, "no healthcheck"},
		{"file not in image", func(c *composeFile) {
			c.Services["directory-import"].Command = strList{"starter", "directory", "import", "/etc/leadflow/dir.yaml"}
		}, func(c *composeFile) problems { return checkComposeImagePaths(c, f.inImage) }, "/etc/leadflow/dir.yaml"},
		{"dynamic config not mounted", func(c *composeFile) { c.Services["temporal"].Volumes = nil },
			func(c *composeFile) problems { return checkTemporalDynamicConfig(c, f.read) }, "must be mounted"},
	}
	for _, tc := range composeCases {
		t.Run("compose/"+tc.name, func(t *testing.T) {
			c := loadCompose(t)
			if p := tc.check(c); len(p) != 0 {
				t.Fatalf("the real file already fails: %v", p)
			}
			tc.mutate(c)
			expectProblem(t, tc.check(c), tc.want)
		})
	}
	t.Run("compose/eager activities off", func(t *testing.T) {
		c := loadCompose(t)
		read := func(rel string) ([]byte, error) {
			b, err := f.read(rel)
			return []byte(strings.Replace(string(b), "system.enableActivityEagerExecution:\n  - value: true", "system.enableActivityEagerExecution:\n  - value: false", 1)), err
		}
		expectProblem(t, checkTemporalDynamicConfig(c, read), "enableActivityEagerExecution")
	})

	k8sCases := []struct {
		name   string
		mutate func(s *k8sSet)
		check  func(s *k8sSet) problems
		want   string
	}{
		{"unknown env var", func(s *k8sSet) {
			c := k8sContainer(t, s, "Deployment", "leadflow-worker")
			c.Env = append(c.Env, c.Env[0])
			c.Env[len(c.Env)-1].Name = "WORKER_THREADS"
		}, nil, "WORKER_THREADS"},
		{"unknown ConfigMap key", func(s *k8sSet) { s.find("ConfigMap", "leadflow-config", false).Data["TEMPORAL_HOST"] = "x:7233" }, nil, "TEMPORAL_HOST"},
		{"unknown Secret key", func(s *k8sSet) { s.find("Secret", "leadflow-secrets", true).StringData["PGPASSWORD"] = "x" }, nil, "PGPASSWORD"},
		{"metrics port mismatch", func(s *k8sSet) { k8sContainer(t, s, "Deployment", "leadflow-worker").Env[0].Value = "0.0.0.0:9091" }, nil, "listens on 9091"},
		{"readiness path", func(s *k8sSet) {
			k8sContainer(t, s, "Deployment", "leadflow-starter").ReadinessProbe.HTTPGet.Path = "/healthz"
		}, nil, "readinessProbe path"},
		{"unknown subcommand", func(s *k8sSet) { k8sContainer(t, s, "Job", "leadflow-db-migrate").Args = []string{"migrate"} }, nil, `"migrate" is not a starter subcommand`},
		{"short grace period", func(s *k8sSet) {
			*s.find("Deployment", "leadflow-worker", false).Workload.Template.Spec.TerminationGracePeriodSeconds = 30
		}, nil, "terminationGracePeriodSeconds is 30s; it must be at least 45s"},
		{"grace period below a longer stop timeout", func(s *k8sSet) {
			s.find("ConfigMap", "leadflow-config", false).Data["LEADFLOW_WORKER_STOP_TIMEOUT"] = "1m"
		}, nil, "terminationGracePeriodSeconds is 1m0s; it must be at least 1m15s (LEADFLOW_WORKER_STOP_TIMEOUT=1m0s"},
		{"worker readiness on healthz", func(s *k8sSet) {
			k8sContainer(t, s, "Deployment", "leadflow-worker").ReadinessProbe.HTTPGet.Path = "/healthz"
		}, nil, "readinessProbe path /healthz"},
		{"writable root", func(s *k8sSet) {
			*k8sContainer(t, s, "Deployment", "leadflow-starter").SecurityContext.ReadOnlyRootFilesystem = false
		}, nil, "readOnlyRootFilesystem"},
		{"policy not mounted", func(s *k8sSet) { k8sContainer(t, s, "Deployment", "leadflow-worker").VolumeMounts = nil }, nil, "/etc/leadflow/policy/policy.yaml"},
		{"Temporal address not from a ConfigMap", func(s *k8sSet) {
			c := k8sContainer(t, s, "Deployment", "leadflow-starter")
			c.Env = append(c.Env, c.Env[0])
			c.Env[len(c.Env)-1].Name, c.Env[len(c.Env)-1].Value = "TEMPORAL_ADDRESS", "temporal:7233"
		}, nil, "TEMPORAL_ADDRESS must come from a ConfigMap"},
		{"example deployed", func(s *k8sSet) {
			s.Kustomization.Resources = append(s.Kustomization.Resources, "secret.example.yaml")
		}, func(s *k8sSet) problems { return checkKustomization(s, filepath.Join(f.root, "deploy")) }, "examples must not be deployed"},
		{"real value in the example Secret", func(s *k8sSet) {
			for _, o := range s.Objects {
				if o.Kind == "Secret" && o.Metadata.Name == "leadflow-secrets" {
					o.StringData["LEADFLOW_API_TOKEN"] = "0123456789abcdef0123456789abcdef"
				}
			}
		}, func(s *k8sSet) problems { return checkKustomization(s, filepath.Join(f.root, "deploy")) }, "LEADFLOW_API_TOKEN must be a \"change-me\" placeholder"},
		{"secretGenerator", func(s *k8sSet) {
			s.Kustomization.SecretGenerator = append(s.Kustomization.SecretGenerator, yaml.Node{Kind: yaml.MappingNode})
		}, func(s *k8sSet) problems { return checkKustomization(s, filepath.Join(f.root, "deploy")) }, "secretGenerator"},
		{"manifest not listed", func(s *k8sSet) { s.Kustomization.Resources = s.Kustomization.Resources[1:] },
			func(s *k8sSet) problems { return checkKustomization(s, filepath.Join(f.root, "deploy")) }, "not listed"},
		{"generator path", func(s *k8sSet) { s.Kustomization.ConfigMapGenerator[0].Files = []string{"policy.yaml=../policy.yml"} },
			func(s *k8sSet) problems { return checkKustomization(s, filepath.Join(f.root, "deploy")) }, "../policy.yml"},
		{"PDB selects nothing", func(s *k8sSet) {
			s.objects("PodDisruptionBudget", false)[0].PDB.Selector.MatchLabels = map[string]string{"app": "x"}
		},
			checkK8sDisruptionBudgets, "want 1"},
	}
	for _, tc := range k8sCases {
		t.Run("k8s/"+tc.name, func(t *testing.T) {
			check := tc.check
			if check == nil {
				check = func(s *k8sSet) problems { return checkK8sWorkloads(s, f.known, f.inImage) }
			}
			s := loadK8sSet(t)
			if p := check(s); len(p) != 0 {
				t.Fatalf("the real files already fail: %v", p)
			}
			tc.mutate(s)
			expectProblem(t, check(s), tc.want)
		})
	}

	dockerCases := []struct {
		name, from, to, want string
	}{
		{"starter not built", "./worker ./starter", "./worker", "go build"},
		{"policy not copied", "COPY deploy/policy.yaml /etc/leadflow/policy.yaml", "", "deploy/policy.yaml"},
		{"unknown ENV", "ENV LEADFLOW_POLICY=/etc/leadflow/policy.yaml", "ENV LEADFLOW_POLICY=/etc/leadflow/policy.yaml LEADFLOW_HOME=/etc/leadflow", "LEADFLOW_HOME"},
		{"root user", "USER nonroot:nonroot", "USER root", "non-root"},
		{"cgo on", "ENV CGO_ENABLED=0", "ENV CGO_ENABLED=1", "CGO_ENABLED=0"},
	}
	for _, tc := range dockerCases {
		t.Run("dockerfile/"+tc.name, func(t *testing.T) {
			b := string(readFile(t, filepath.Join(f.root, "Dockerfile")))
			if !strings.Contains(b, tc.from) {
				t.Fatalf("Dockerfile has no %q to break", tc.from)
			}
			stages, err := parseDockerfile([]byte(strings.Replace(b, tc.from, tc.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			expectProblem(t, checkDockerfile(stages, f.known, f.exists), tc.want)
		})
	}
	t.Run("dockerignore/deploy excluded", func(t *testing.T) {
		b := string(readFile(t, filepath.Join(f.root, ".dockerignore")))
		expectProblem(t, checkDockerignore(b+"\ndeploy\n", contextNeeds), "deploy/policy.yaml")
		expectProblem(t, checkDockerignore(b+"\n*.sum\n", contextNeeds), "go.sum")
	})
}

func editAdminScript(c *composeFile, from, to string) {
	s := c.Services["temporal-admin-tools"]
	for i := range s.Command {
		s.Command[i] = strings.Replace(s.Command[i], from, to, 1)
	}
}

func k8sContainer(t *testing.T, s *k8sSet, kind, name string) *container {
	t.Helper()
	o := s.find(kind, name, false)
	if o == nil || len(o.Workload.Template.Spec.Containers) == 0 {
		t.Fatalf("no %s/%s with a container", kind, name)
	}
	return &o.Workload.Template.Spec.Containers[0]
}

func expectProblem(t *testing.T, p problems, want string) {
	t.Helper()
	for _, s := range p {
		if strings.Contains(s, want) {
			return
		}
	}
	t.Errorf("the broken copy was not reported (want a problem mentioning %q); got %d: %v", want, len(p), p)
}
