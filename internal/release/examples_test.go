package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	yaml "go.yaml.in/yaml/v3"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

// Only the parts of the Kubernetes objects that the checks below look at.

type k8sMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels"`
}

type k8sObject struct {
	APIVersion string    `yaml:"apiVersion"`
	Kind       string    `yaml:"kind"`
	Metadata   k8sMeta   `yaml:"metadata"`
	Spec       yaml.Node `yaml:"spec"`
	file       string
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type deploymentSpec struct {
	Selector labelSelector `yaml:"selector"`
	Template struct {
		Metadata k8sMeta `yaml:"metadata"`
		Spec     podSpec `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot   *bool  `yaml:"runAsNonRoot"`
		RunAsUser      *int64 `yaml:"runAsUser"`
		RunAsGroup     *int64 `yaml:"runAsGroup"`
		FSGroup        *int64 `yaml:"fsGroup"`
		SeccompProfile struct {
			Type string `yaml:"type"`
		} `yaml:"seccompProfile"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName  string `yaml:"secretName"`
			DefaultMode *int   `yaml:"defaultMode"`
			Items       []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type probe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name      string  `yaml:"name"`
		Value     *string `yaml:"value"`
		ValueFrom any     `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string    `yaml:"name"`
		Port       int       `yaml:"port"`
		TargetPort yaml.Node `yaml:"targetPort"`
	} `yaml:"ports"`
}

type serviceMonitorSpec struct {
	Selector          labelSelector `yaml:"selector"`
	NamespaceSelector any           `yaml:"namespaceSelector"`
	Endpoints         []struct {
		Port          string `yaml:"port"`
		Path          string `yaml:"path"`
		Interval      string `yaml:"interval"`
		ScrapeTimeout string `yaml:"scrapeTimeout"`
	} `yaml:"endpoints"`
}

// decodeManifests reads every YAML document of every examples/kubernetes file.
func decodeManifests(t *testing.T) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(repoFile(t, "examples/kubernetes/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(repoFile(t, "examples/kubernetes/*.yml"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no manifests in examples/kubernetes")
	}
	var objs []k8sObject
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(r)
		for i := 0; ; i++ {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: document %d: %v", filepath.Base(f), i, err)
			}
			if len(doc.Content) == 0 || doc.Content[0].Kind == 0 {
				continue // empty document
			}
			var obj k8sObject
			if err := doc.Decode(&obj); err != nil {
				t.Fatalf("%s: document %d: %v", filepath.Base(f), i, err)
			}
			if obj.APIVersion == "" || obj.Kind == "" || obj.Metadata.Name == "" {
				t.Errorf("%s: document %d lacks apiVersion, kind or metadata.name", filepath.Base(f), i)
			}
			obj.file = filepath.Base(f)
			objs = append(objs, obj)
		}
		r.Close()
	}
	return objs
}

func only[T any](t *testing.T, objs []k8sObject, apiVersion, kind string) (k8sObject, T) {
	t.Helper()
	var found []k8sObject
	for _, o := range objs {
		if o.Kind == kind {
			found = append(found, o)
		}
	}
	var spec T
	if len(found) != 1 {
		t.Fatalf("want exactly one %s in examples/kubernetes, found %d", kind, len(found))
	}
	o := found[0]
	if o.APIVersion != apiVersion {
		t.Errorf("%s %s: apiVersion %q, want %q", kind, o.Metadata.Name, o.APIVersion, apiVersion)
	}
	if err := o.Spec.Decode(&spec); err != nil {
		t.Fatalf("%s %s: spec: %v", kind, o.Metadata.Name, err)
	}
	return o, spec
}

// subset reports whether every label of sel is in labels (a selector matches).
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

func TestKubernetesManifests(t *testing.T) {
	objs := decodeManifests(t)
	_, dep := only[deploymentSpec](t, objs, "apps/v1", "Deployment")
	svcObj, svc := only[serviceSpec](t, objs, "v1", "Service")
	_, sm := only[serviceMonitorSpec](t, objs, "monitoring.coreos.com/v1", "ServiceMonitor")

	for _, o := range objs {
		if o.Kind == "Secret" {
			t.Errorf("%s: ship no Secret object: an example key in a manifest invites committing a real one", o.file)
		}
	}

	// Deployment → pods.
	podLabels := dep.Template.Metadata.Labels
	if !subset(dep.Selector.MatchLabels, podLabels) {
		t.Errorf("Deployment selector %v does not match the pod labels %v", dep.Selector.MatchLabels, podLabels)
	}
	pod := dep.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container in the pod, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]

	// The key: a file from a Secret volume, named by --vocode.api-key-file.
	var keyFile string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--vocode.api-key-file="); ok {
			keyFile = v
		}
	}
	if keyFile == "" {
		t.Fatalf("container args %q do not pass --vocode.api-key-file=<path>", c.Args)
	}
	for _, e := range c.Env {
		if e.Name == "VOCODE_API_KEY" {
			t.Errorf("the container sets VOCODE_API_KEY: pass the key as a file instead")
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(keyFile, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.Secret == nil || v.Secret.SecretName == "" {
				t.Errorf("volume %q holding %s is not a Secret volume", v.Name, keyFile)
				continue
			}
			mounted = true
			if !m.ReadOnly {
				t.Errorf("volume mount %s is not readOnly", m.MountPath)
			}
			if len(v.Secret.Items) > 0 {
				found := false
				for _, it := range v.Secret.Items {
					found = found || path.Clean(it.Path) == rel
				}
				if !found {
					t.Errorf("Secret volume %q projects no item at %q", v.Name, rel)
				}
			}
			// The exporter runs as a non-root user and the files belong to
			// root: it reads them through "other" bits, or through the group
			// bits that Kubernetes adds for the pod's fsGroup.
			mode := 0o644 // Kubernetes' default
			if v.Secret.DefaultMode != nil {
				mode = *v.Secret.DefaultMode
			}
			if mode&0o004 == 0 && pod.SecurityContext.FSGroup == nil {
				t.Errorf("Secret volume mode %#o without a pod fsGroup: the non-root exporter cannot read the key", mode)
			}
		}
	}
	if !mounted {
		t.Errorf("--vocode.api-key-file=%s is not inside a mounted Secret volume", keyFile)
	}

	// Non-root, locked-down container.
	if sc := pod.SecurityContext; sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("pod securityContext lacks runAsNonRoot: true")
	}
	if sc := c.SecurityContext; sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container securityContext lacks allowPrivilegeEscalation: false")
	}
	if sc := c.SecurityContext; sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container securityContext lacks readOnlyRootFilesystem: true")
	}
	if drop := c.SecurityContext.Capabilities.Drop; len(drop) != 1 || drop[0] != "ALL" {
		t.Errorf("container drops capabilities %q, want [ALL]", drop)
	}
	if c.Image == "" {
		t.Error("container has no image")
	}
	// The user is the image's (`make test-image` checks the image runs as it,
	// with this hardening), and the tag the one `make image` gives.
	checkImageUser(t, pod)
	if got := pod.SecurityContext.SeccompProfile.Type; got != "RuntimeDefault" {
		t.Errorf("pod seccompProfile type %q, want RuntimeDefault", got)
	}
	if version := strings.TrimSpace(readRepoFile(t, "VERSION")); !strings.HasSuffix(c.Image, "/vocode_exporter:"+version) {
		t.Errorf("container image %q, want <registry>/vocode_exporter:%s as make image tags it", c.Image, version)
	}

	// The metrics port and probes.
	var portName string
	for _, p := range c.Ports {
		if fmt.Sprint(p.ContainerPort) == defaultPort {
			portName = p.Name
		}
	}
	if portName == "" {
		t.Fatalf("container declares no named port %s", defaultPort)
	}
	for name, want := range map[string]struct {
		p    *probe
		path string
	}{"livenessProbe": {c.LivenessProbe, "/-/healthy"}, "readinessProbe": {c.ReadinessProbe, "/-/ready"}} {
		if want.p == nil || want.p.HTTPGet == nil {
			t.Errorf("container has no HTTP %s", name)
			continue
		}
		if want.p.HTTPGet.Path != want.path {
			t.Errorf("%s path %q, want %q", name, want.p.HTTPGet.Path, want.path)
		}
		if port := want.p.HTTPGet.Port.Value; port != portName && port != defaultPort {
			t.Errorf("%s port %q, want %q or %s", name, port, portName, defaultPort)
		}
	}

	// Service → pods.
	if !subset(svc.Selector, podLabels) {
		t.Errorf("Service selector %v does not match the pod labels %v", svc.Selector, podLabels)
	}
	var svcPort string
	for _, p := range svc.Ports {
		if tp := p.TargetPort.Value; tp == portName || tp == defaultPort || (tp == "" && fmt.Sprint(p.Port) == defaultPort) {
			svcPort = p.Name
		}
	}
	if svcPort == "" {
		t.Fatalf("the Service has no named port that targets the container's %s", defaultPort)
	}

	// ServiceMonitor → Service.
	if !subset(sm.Selector.MatchLabels, svcObj.Metadata.Labels) {
		t.Errorf("ServiceMonitor selector %v does not match the Service labels %v", sm.Selector.MatchLabels, svcObj.Metadata.Labels)
	}
	if len(sm.Endpoints) != 1 {
		t.Fatalf("want one ServiceMonitor endpoint, got %d", len(sm.Endpoints))
	}
	ep := sm.Endpoints[0]
	if ep.Port != svcPort {
		t.Errorf("ServiceMonitor endpoint port %q, want the Service port name %q", ep.Port, svcPort)
	}
	if ep.Path != "" && ep.Path != "/metrics" {
		t.Errorf("ServiceMonitor path %q, want /metrics", ep.Path)
	}
	checkIntervalAndTimeout(t, "ServiceMonitor", ep.Interval, ep.ScrapeTimeout)
}

// checkImageUser wants the pod's runAsUser and runAsGroup, where set, to be
// the Dockerfile's USER: another uid could not read what the image's user owns.
func checkImageUser(t *testing.T, pod podSpec) {
	t.Helper()
	user, ok := last[*instructions.UserCommand](loadDockerfile(t, testBuildArgs).final())
	if !ok {
		t.Fatal("the Dockerfile's final stage has no USER")
	}
	uid, gid, _ := strings.Cut(user.User, ":")
	sc := pod.SecurityContext
	for _, c := range []struct {
		name  string
		got   *int64
		image string
	}{{"runAsUser", sc.RunAsUser, uid}, {"runAsGroup", sc.RunAsGroup, gid}} {
		if c.got != nil && c.image != "" && fmt.Sprint(*c.got) != c.image {
			t.Errorf("pod %s %d, but the image's USER is %s", c.name, *c.got, user.User)
		}
	}
	if sc.FSGroup != nil && gid != "" && fmt.Sprint(*sc.FSGroup) != gid {
		t.Errorf("pod fsGroup %d is not the image's group (USER %s): the key file would not be readable", *sc.FSGroup, user.User)
	}
}

// checkIntervalAndTimeout wants both set, the timeout leaving the exporter
// room for its own deadline, and below the interval.
func checkIntervalAndTimeout(t *testing.T, where, interval, timeout string) {
	t.Helper()
	iv, err1 := time.ParseDuration(interval)
	to, err2 := time.ParseDuration(timeout)
	if err1 != nil || err2 != nil {
		t.Errorf("%s: interval %q / timeout %q: want both set as durations", where, interval, timeout)
		return
	}
	if to >= iv {
		t.Errorf("%s: scrape timeout %v is not below the interval %v", where, to, iv)
	}
	if to < 5*time.Second {
		t.Errorf("%s: scrape timeout %v leaves too little time to walk the API's pages", where, to)
	}
}

type promConfig struct {
	Global struct {
		ScrapeInterval string `yaml:"scrape_interval"`
		ScrapeTimeout  string `yaml:"scrape_timeout"`
	} `yaml:"global"`
	ScrapeConfigs []struct {
		JobName        string `yaml:"job_name"`
		ScrapeInterval string `yaml:"scrape_interval"`
		ScrapeTimeout  string `yaml:"scrape_timeout"`
		MetricsPath    string `yaml:"metrics_path"`
		StaticConfigs  []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestPrometheusExample(t *testing.T) {
	file := repoFile(t, "examples/prometheus.yml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cfg promConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("examples/prometheus.yml: %v", err)
	}
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				if !strings.HasSuffix(target, ":"+defaultPort) {
					continue
				}
				found = true
				interval := firstNonEmpty(sc.ScrapeInterval, cfg.Global.ScrapeInterval, "1m")
				timeout := firstNonEmpty(sc.ScrapeTimeout, cfg.Global.ScrapeTimeout, "10s")
				checkIntervalAndTimeout(t, "job "+sc.JobName, interval, timeout)
				if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
					t.Errorf("job %s: metrics_path %q, want /metrics", sc.JobName, sc.MetricsPath)
				}
			}
		}
	}
	if !found {
		t.Errorf("examples/prometheus.yml has no target on port %s", defaultPort)
	}

	e2e.RequireTool(t, "promtool")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "promtool", "check", "config", file).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config examples/prometheus.yml: %v\n%s", err, out)
	}
	t.Logf("promtool: %s", strings.TrimSpace(string(out)))
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// unitFile holds a systemd unit's settings by section; repeated keys keep
// every value in order.
type unitFile map[string]map[string][]string

// parseUnit reads a unit file with go-systemd's reader, which follows
// systemd's syntax (continuation lines, comments, empty assignments).
func parseUnit(r io.Reader) (unitFile, error) {
	opts, err := unit.DeserializeOptions(r)
	if err != nil {
		return nil, err
	}
	u := unitFile{}
	for _, o := range opts {
		if u[o.Section] == nil {
			u[o.Section] = map[string][]string{}
		}
		u[o.Section][o.Name] = append(u[o.Section][o.Name], o.Value)
	}
	return u, nil
}

func TestSystemdUnit(t *testing.T) {
	file := repoFile(t, "examples/systemd/vocode_exporter.service")
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	u, err := parseUnit(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	get := func(k string) string {
		v := svc[k]
		if len(v) == 0 {
			return ""
		}
		return v[len(v)-1]
	}

	// The key: a systemd credential, handed over as a file.
	creds := map[string]bool{}
	for _, lc := range svc["LoadCredential"] {
		name, src, ok := strings.Cut(lc, ":")
		if !ok || !strings.HasPrefix(src, "/") {
			t.Errorf("LoadCredential=%s: want NAME:/absolute/path", lc)
		}
		creds[name] = true
	}
	execStart := get("ExecStart")
	var keyArg string
	for _, w := range strings.Fields(execStart) {
		if v, ok := strings.CutPrefix(w, "--vocode.api-key-file="); ok {
			keyArg = v
		}
	}
	name, ok := strings.CutPrefix(keyArg, "${CREDENTIALS_DIRECTORY}/")
	if !ok {
		t.Errorf("ExecStart does not pass --vocode.api-key-file=${CREDENTIALS_DIRECTORY}/<credential>: %q", execStart)
	} else if !creds[name] {
		t.Errorf("ExecStart reads credential %q, which no LoadCredential= loads", name)
	}
	if strings.Contains(execStart, "VOCODE_API_KEY") || len(svc["Environment"]) > 0 || len(svc["EnvironmentFile"]) > 0 {
		t.Error("the unit passes settings through the environment; keep the key in the credential")
	}
	if !strings.Contains(execStart, defaultPort) {
		t.Errorf("ExecStart does not name the listen port %s", defaultPort)
	}

	// Hardening.
	for k, want := range map[string]string{
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectControlGroups":    "yes",
		"RestrictSUIDSGID":        "yes",
		"MemoryDenyWriteExecute":  "yes",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	} {
		if v, ok := svc[k]; !ok || v[len(v)-1] != want {
			t.Errorf("[Service] %s=%q, want %q", k, strings.Join(v, ","), want)
		}
	}
	if len(svc["SystemCallFilter"]) == 0 {
		t.Error("[Service] has no SystemCallFilter=")
	}
	if reload := get("ExecReload"); !strings.Contains(reload, "HUP") {
		t.Errorf("ExecReload=%q: want a SIGHUP (the exporter reloads on it)", reload)
	}

	// systemd's own check, where systemd-analyze exists. It insists that
	// ExecStart's program exists: point it at any executable.
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not on PATH; skipping `systemd-analyze verify`")
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "vocode_exporter.service")
	text := strings.Replace(string(src), "ExecStart=/usr/local/bin/vocode_exporter", "ExecStart="+self, 1)
	if text == string(src) {
		t.Fatal("ExecStart no longer starts with /usr/local/bin/vocode_exporter; update this test")
	}
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, analyze, "verify", unit)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
