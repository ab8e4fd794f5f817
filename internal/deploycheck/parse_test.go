package deploycheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// ---------------------------------------------------------------- repository

// repoRoot is the directory holding go.mod, found upwards from the test's
// working directory (the package directory).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// problems collects what a check found.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// ---------------------------------------------------------------- YAML helpers

// strList is a compose command/entrypoint or healthcheck test: a string (split
// on blanks, as compose does for simple commands) or a list of strings.
type strList []string

func (s *strList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*s = nil
			return nil
		}
		*s = strings.Fields(n.Value)
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// envMap is a compose environment: a mapping (merge keys allowed) or a list
// of NAME=value. Values are kept as written (before interpolation).
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	out := envMap{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]any
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			if v == nil {
				out[k] = ""
			} else {
				out[k] = fmt.Sprint(v)
			}
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	*e = out
	return nil
}

// composePort is one published port: short ("[ip:]host:container[/proto]",
// or just "container") or long ({target, published}) syntax.
type composePort struct{ HostIP, Host, Container string }

func (p *composePort) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		s, _, _ := strings.Cut(n.Value, "/")
		parts := strings.Split(s, ":")
		switch len(parts) {
		case 1:
			*p = composePort{Container: parts[0]}
		case 2:
			*p = composePort{Host: parts[0], Container: parts[1]}
		case 3:
			*p = composePort{HostIP: parts[0], Host: parts[1], Container: parts[2]}
		default:
			return fmt.Errorf("line %d: cannot read port %q", n.Line, n.Value)
		}
		return nil
	case yaml.MappingNode:
		var l struct {
			Target    any    `yaml:"target"`
			Published any    `yaml:"published"`
			HostIP    string `yaml:"host_ip"`
		}
		if err := n.Decode(&l); err != nil {
			return err
		}
		*p = composePort{HostIP: l.HostIP, Container: fmt.Sprint(l.Target)}
		if l.Published != nil {
			p.Host = fmt.Sprint(l.Published)
		}
		return nil
	}
	return fmt.Errorf("line %d: cannot read port", n.Line)
}

// composeVolume is a service volume: "source:target[:mode]" or
// {type, source, target}.
type composeVolume struct{ Source, Target string }

func (v *composeVolume) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		parts := strings.Split(n.Value, ":")
		if len(parts) < 2 {
			*v = composeVolume{Target: parts[0]}
			return nil
		}
		*v = composeVolume{Source: parts[0], Target: parts[1]}
		return nil
	case yaml.MappingNode:
		var l struct{ Source, Target string }
		if err := n.Decode(&l); err != nil {
			return err
		}
		*v = composeVolume{Source: l.Source, Target: l.Target}
		return nil
	}
	return fmt.Errorf("line %d: cannot read volume", n.Line)
}

// dependsOn is a compose depends_on: a list of names (condition
// service_started) or a mapping name → {condition}.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, s := range l {
			out[s] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			c := v.Condition
			if c == "" {
				c = "service_started"
			}
			out[k] = c
		}
	default:
		return fmt.Errorf("line %d: cannot read depends_on", n.Line)
	}
	*d = out
	return nil
}

// ---------------------------------------------------------------- compose

type composeFile struct {
	Services map[string]*composeService `yaml:"services"`
	Volumes  map[string]any             `yaml:"volumes"`
}

type composeService struct {
	Image       string          `yaml:"image"`
	Build       any             `yaml:"build"`
	Command     strList         `yaml:"command"`
	Entrypoint  strList         `yaml:"entrypoint"`
	Environment envMap          `yaml:"environment"`
	Ports       []composePort   `yaml:"ports"`
	Volumes     []composeVolume `yaml:"volumes"`
	DependsOn   dependsOn       `yaml:"depends_on"`
	Healthcheck *struct {
		Test strList `yaml:"test"`
	} `yaml:"healthcheck"`
	Restart         string `yaml:"restart"`
	StopGracePeriod string `yaml:"stop_grace_period"`
}

// ours reports whether the service runs the leadflow image (built from the
// repository's Dockerfile).
func (s *composeService) ours() bool {
	return s.Build != nil || strings.HasPrefix(s.Image, "leadflow")
}

// argv is what the container runs: entrypoint + command (our image has no
// ENTRYPOINT, so the command alone when none is set).
func (s *composeService) argv() []string {
	return append(append([]string(nil), s.Entrypoint...), s.Command...)
}

func parseCompose(b []byte) (*composeFile, error) {
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if len(c.Services) == 0 {
		return nil, errors.New("no services")
	}
	for name, s := range c.Services {
		if s == nil {
			return nil, fmt.Errorf("service %s is empty", name)
		}
	}
	return &c, nil
}

func loadCompose(t testing.TB) *composeFile {
	t.Helper()
	c, err := parseCompose(readFile(t, filepath.Join(repoRoot(t), "docker-compose.yml")))
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

var interpolation = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolatedVars lists the host variables a compose value reads (${X},
// ${X:-default}, $X; $$ is a literal dollar).
func interpolatedVars(v string) []string {
	var out []string
	for _, m := range interpolation.FindAllStringSubmatch(v, -1) {
		switch {
		case m[1] != "":
			out = append(out, m[1])
		case m[4] != "":
			out = append(out, m[4])
		}
	}
	return out
}

// interpolate resolves a compose value as `docker compose` would with none
// of the variables set in the host environment, except that a required one
// (${X:?…}, which compose refuses to start without) stands for a value the
// operator supplies.
func interpolate(v string) string {
	return interpolation.ReplaceAllStringFunc(v, func(s string) string {
		if s == "$$" {
			return "$"
		}
		m := interpolation.FindStringSubmatch(s)
		switch m[2] {
		case ":-", "-":
			return m[3]
		case ":?", "?":
			// Required: compose stops unless the operator sets it.
			return secretStandIn(placeholder)
		}
		return ""
	})
}

// ---------------------------------------------------------------- Kubernetes

type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       yaml.Node         `yaml:"spec"`

	File string `yaml:"-"`
	// Filled for Deployments and Jobs.
	Workload *workloadSpec `yaml:"-"`
	// Filled for Services and PodDisruptionBudgets.
	Service *serviceSpec `yaml:"-"`
	PDB     *pdbSpec     `yaml:"-"`
}

func (o *k8sObject) String() string { return o.File + ": " + o.Kind + "/" + o.Metadata.Name }

type workloadSpec struct {
	Replicas *int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int   `yaml:"terminationGracePeriodSeconds"`
	RestartPolicy                 string `yaml:"restartPolicy"`
	SecurityContext               struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    *int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	InitContainers []container `yaml:"initContainers"`
	Containers     []container `yaml:"containers"`
	Volumes        []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
		EmptyDir any `yaml:"emptyDir"`
	} `yaml:"volumes"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom any    `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports           []containerPort `yaml:"ports"`
	LivenessProbe   *probe          `yaml:"livenessProbe"`
	ReadinessProbe  *probe          `yaml:"readinessProbe"`
	SecurityContext struct {
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
}

func (c *container) argv() []string { return append(append([]string(nil), c.Command...), c.Args...) }

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // number or port name
	} `yaml:"httpGet"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort any    `yaml:"targetPort"`
	} `yaml:"ports"`
}

type pdbSpec struct {
	MinAvailable   any `yaml:"minAvailable"`
	MaxUnavailable any `yaml:"maxUnavailable"`
	Selector       struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
}

type kustomization struct {
	APIVersion         string   `yaml:"apiVersion"`
	Kind               string   `yaml:"kind"`
	Namespace          string   `yaml:"namespace"`
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name     string   `yaml:"name"`
		Files    []string `yaml:"files"`
		Literals []string `yaml:"literals"`
	} `yaml:"configMapGenerator"`
	SecretGenerator []yaml.Node `yaml:"secretGenerator"`
	Images          []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

// generatedFiles maps each key of a configMapGenerator's files to the file
// (relative to the kustomization directory), as kustomize does: "key=path",
// or "path" with the key its base name.
func generatedFiles(files []string) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		if k, p, ok := strings.Cut(f, "="); ok {
			out[k] = p
		} else {
			out[path.Base(f)] = f
		}
	}
	return out
}

// k8sSet is everything under deploy/k8s.
type k8sSet struct {
	Dir           string
	Kustomization *kustomization
	Objects       []*k8sObject // every document of every YAML file but kustomization.yaml
}

// isResource reports whether kustomization.yaml lists the file (relative to Dir).
func (s *k8sSet) isResource(file string) bool {
	for _, r := range s.Kustomization.Resources {
		if path.Clean(r) == file {
			return true
		}
	}
	return false
}

// generated returns the configMapGenerator keys: ConfigMap name → key → file
// (relative to Dir; "" for a literal).
func (s *k8sSet) generated() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, g := range s.Kustomization.ConfigMapGenerator {
		out[g.Name] = generatedFiles(g.Files)
		for _, l := range g.Literals {
			k, _, _ := strings.Cut(l, "=")
			out[g.Name][k] = ""
		}
	}
	return out
}

// objects returns the objects of a kind that kustomize would deploy (files
// listed in resources), or, with examples, also the others (secret.example.yaml).
func (s *k8sSet) objects(kind string, examples bool) []*k8sObject {
	var out []*k8sObject
	for _, o := range s.Objects {
		if o.Kind == kind && (examples || s.isResource(o.File)) {
			out = append(out, o)
		}
	}
	return out
}

func (s *k8sSet) find(kind, name string, examples bool) *k8sObject {
	for _, o := range s.objects(kind, examples) {
		if o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

// decodeDocs splits a multi-document YAML stream.
func decodeDocs(b []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue // an empty document (e.g. a trailing ---)
		}
		out = append(out, &n)
	}
}

func parseObject(n *yaml.Node, file string) (*k8sObject, error) {
	var o k8sObject
	if err := n.Decode(&o); err != nil {
		return nil, err
	}
	o.File = file
	if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
		return nil, errors.New("a document lacks apiVersion, kind or metadata.name")
	}
	switch o.Kind {
	case "Deployment", "Job", "StatefulSet", "DaemonSet":
		o.Workload = new(workloadSpec)
		if err := o.Spec.Decode(o.Workload); err != nil {
			return nil, fmt.Errorf("%s/%s spec: %w", o.Kind, o.Metadata.Name, err)
		}
	case "Service":
		o.Service = new(serviceSpec)
		if err := o.Spec.Decode(o.Service); err != nil {
			return nil, fmt.Errorf("%s/%s spec: %w", o.Kind, o.Metadata.Name, err)
		}
	case "PodDisruptionBudget":
		o.PDB = new(pdbSpec)
		if err := o.Spec.Decode(o.PDB); err != nil {
			return nil, fmt.Errorf("%s/%s spec: %w", o.Kind, o.Metadata.Name, err)
		}
	}
	return &o, nil
}

// loadK8s reads every .yaml/.yml file under dir (recursively, every
// document).
func loadK8s(dir string) (*k8sSet, error) {
	s := &k8sSet{Dir: dir}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		docs, err := decodeDocs(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		if path.Base(rel) == "kustomization.yaml" || path.Base(rel) == "kustomization.yml" {
			if rel != path.Base(rel) {
				continue // an overlay's; only the base is checked here
			}
			if len(docs) != 1 {
				return nil, fmt.Errorf("%s: want one document, got %d", rel, len(docs))
			}
			var k kustomization
			if err := docs[0].Decode(&k); err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
			s.Kustomization = &k
			continue
		}
		if len(docs) == 0 {
			return nil, fmt.Errorf("%s: no YAML document", rel)
		}
		for i, d := range docs {
			o, err := parseObject(d, rel)
			if err != nil {
				return nil, fmt.Errorf("%s (document %d): %w", rel, i+1, err)
			}
			s.Objects = append(s.Objects, o)
		}
	}
	if s.Kustomization == nil {
		return nil, errors.New("no kustomization.yaml")
	}
	return s, nil
}

func loadK8sSet(t testing.TB) *k8sSet {
	t.Helper()
	s, err := loadK8s(filepath.Join(repoRoot(t), "deploy", "k8s"))
	if err != nil {
		t.Fatalf("deploy/k8s: %v", err)
	}
	return s
}

// ---------------------------------------------------------------- Dockerfile

type dockerInstr struct {
	Cmd  string // upper case: FROM, RUN, COPY, ENV, …
	Args string
	Line int
}

type dockerStage struct {
	From   string
	Name   string
	Instrs []dockerInstr
}

// parseDockerfile splits a Dockerfile into stages of instructions, joining
// continuation lines and dropping comments.
func parseDockerfile(b []byte) ([]*dockerStage, error) {
	var stages []*dockerStage
	sc := bufio.NewScanner(bytes.NewReader(b))
	var buf strings.Builder
	start, lineNo := 0, 0
	flush := func() error {
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		if text == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := dockerInstr{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := &dockerStage{}
			for i := 0; i < len(f); i++ {
				switch {
				case strings.HasPrefix(f[i], "--"):
				case strings.EqualFold(f[i], "AS") && i+1 < len(f):
					st.Name = f[i+1]
					i++
				case st.From == "":
					st.From = f[i]
				}
			}
			stages = append(stages, st)
			return nil
		}
		if len(stages) == 0 {
			if in.Cmd == "ARG" {
				return nil
			}
			return fmt.Errorf("line %d: %s before FROM", in.Line, in.Cmd)
		}
		st := stages[len(stages)-1]
		st.Instrs = append(st.Instrs, in)
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if buf.Len() == 0 {
			start = lineNo
		}
		if strings.HasSuffix(trimmed, `\`) {
			buf.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		buf.WriteString(trimmed)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return nil, errors.New("no FROM")
	}
	return stages, nil
}

// envNames returns the variables an ENV instruction sets ("K=V K2=V2" or the
// legacy "K V").
func envNames(args string) map[string]string {
	out := map[string]string{}
	if !strings.Contains(strings.Fields(args)[0], "=") {
		k, v, _ := strings.Cut(args, " ")
		out[k] = strings.TrimSpace(v)
		return out
	}
	for _, f := range strings.Fields(args) {
		k, v, _ := strings.Cut(f, "=")
		out[k] = strings.Trim(v, `"`)
	}
	return out
}

// copyArgs returns a COPY's sources and destination, without its --flags,
// and the --from stage if any.
func copyArgs(args string) (srcs []string, dst, from string) {
	var words []string
	if strings.HasPrefix(strings.TrimSpace(args), "[") {
		// JSON form.
		var l []string
		if err := yaml.Unmarshal([]byte(args), &l); err == nil {
			words = l
		}
	} else {
		for _, f := range strings.Fields(args) {
			if strings.HasPrefix(f, "--") {
				if v, ok := strings.CutPrefix(f, "--from="); ok {
					from = v
				}
				continue
			}
			words = append(words, f)
		}
	}
	if len(words) < 2 {
		return nil, "", from
	}
	return words[:len(words)-1], words[len(words)-1], from
}

// imageFiles returns the files the final stage puts in the image: path in
// the image → source (repository path, or "stage:path" for --from copies).
func imageFiles(stages []*dockerStage) map[string]string {
	out := map[string]string{}
	final := stages[len(stages)-1]
	for _, in := range final.Instrs {
		if in.Cmd != "COPY" && in.Cmd != "ADD" {
			continue
		}
		srcs, dst, from := copyArgs(in.Args)
		for _, src := range srcs {
			target := dst
			if strings.HasSuffix(dst, "/") || len(srcs) > 1 {
				target = path.Join(dst, path.Base(src))
			}
			if from != "" {
				out[target] = from + ":" + src
			} else {
				out[target] = src
			}
		}
	}
	return out
}
