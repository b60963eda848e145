package charttest

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// imageUser is the uid and gid of the Dockerfile's last USER, which the pod
// must run as (another uid could not read what the image's user owns).
// internal/release checks the Dockerfile itself with BuildKit's parser;
// here its one USER line is enough.
func imageUser(t *testing.T) (uid, gid int64) {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var user string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && strings.EqualFold(fields[0], "USER") {
			user = fields[1]
		}
	}
	u, g, _ := strings.Cut(user, ":")
	uid, err1 := strconv.ParseInt(u, 10, 64)
	gid, err2 := strconv.ParseInt(g, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("the Dockerfile's USER %q is not UID:GID", user)
	}
	return uid, gid
}

// TestHardened: in every ci case the pod runs as the image's non-root user
// without a service-account token, with a read-only root, no capabilities,
// no privilege escalation and the runtime's seccomp profile; it has no
// environment (the key is a file); its health checks are the exporter's.
func TestHardened(t *testing.T) {
	uid, gid := imageUser(t)
	for _, c := range ciCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dep := only[appsv1.Deployment](t, c, "Deployment")
			pod := dep.Spec.Template.Spec
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the pod mounts a service-account token")
			}
			if c.has("ServiceAccount") {
				sa := only[corev1.ServiceAccount](t, c, "ServiceAccount")
				if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
					t.Error("the ServiceAccount has its token mounted by default")
				}
				if pod.ServiceAccountName != sa.Name {
					t.Errorf("the pod runs as service account %q, the chart makes %q", pod.ServiceAccountName, sa.Name)
				}
			}
			psc := pod.SecurityContext
			switch {
			case psc == nil:
				t.Fatal("no pod securityContext")
			case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
				t.Error("runAsNonRoot is not true")
			case psc.RunAsUser == nil || *psc.RunAsUser != uid:
				t.Errorf("runAsUser %v, want the image's %d", psc.RunAsUser, uid)
			case psc.RunAsGroup == nil || *psc.RunAsGroup != gid:
				t.Errorf("runAsGroup %v, want the image's %d", psc.RunAsGroup, gid)
			case psc.FSGroup == nil || *psc.FSGroup != gid:
				t.Errorf("fsGroup %v, want the image's group %d (it makes the key files readable)", psc.FSGroup, gid)
			case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
				t.Errorf("seccompProfile %v, want RuntimeDefault", psc.SeccompProfile)
			}
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
				t.Fatalf("%d containers and %d init containers, want the exporter alone", len(pod.Containers), len(pod.InitContainers))
			}
			ctr := pod.Containers[0]
			sc := ctr.SecurityContext
			switch {
			case sc == nil:
				t.Fatal("no container securityContext")
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Error("allowPrivilegeEscalation is not false")
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Error("readOnlyRootFilesystem is not true")
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("capabilities %v, want drop [ALL] and none added", sc.Capabilities)
			case sc.Privileged != nil && *sc.Privileged:
				t.Error("privileged")
			}
			if len(ctr.Env) > 0 || len(ctr.EnvFrom) > 0 {
				t.Errorf("the container has an environment (%v, %v): the key must be a file", ctr.Env, ctr.EnvFrom)
			}
			if ctr.Resources.Limits.Memory().IsZero() {
				t.Error("no memory limit")
			}
			scheme := corev1.URISchemeHTTP
			if c.value("webConfig.tls.existingSecret") != "" {
				scheme = corev1.URISchemeHTTPS
			}
			for _, p := range []struct {
				name  string
				probe *corev1.Probe
				path  string
			}{{"liveness", ctr.LivenessProbe, "/-/healthy"}, {"readiness", ctr.ReadinessProbe, "/-/ready"}} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					t.Errorf("no HTTP %s probe", p.name)
					continue
				}
				g := p.probe.HTTPGet
				if g.Path != p.path || g.Port.String() != "http-metrics" || g.Scheme != scheme {
					t.Errorf("%s probe %s %s on port %s, want %s %s on http-metrics", p.name, g.Scheme, g.Path, g.Port.String(), scheme, p.path)
				}
			}
			if len(ctr.Ports) != 1 || ctr.Ports[0].Name != "http-metrics" || ctr.Ports[0].ContainerPort != 10401 {
				t.Errorf("ports %v, want http-metrics 10401 (the exporter's --web.listen-address)", ctr.Ports)
			}
			for _, m := range ctr.VolumeMounts {
				if !m.ReadOnly {
					t.Errorf("volume %s is mounted writable", m.Name)
				}
			}
		})
	}
}

// TestSelectors: the Deployment, Service and ServiceMonitor find each other.
func TestSelectors(t *testing.T) {
	for _, c := range ciCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dep := only[appsv1.Deployment](t, c, "Deployment")
			svc := only[corev1.Service](t, c, "Service")
			podLabels := labels.Set(dep.Spec.Template.Labels)
			if sel := labels.SelectorFromSet(dep.Spec.Selector.MatchLabels); dep.Spec.Selector.MatchLabels == nil || !sel.Matches(podLabels) {
				t.Errorf("the Deployment's selector %v does not match its pods %v", dep.Spec.Selector.MatchLabels, podLabels)
			}
			if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
				t.Errorf("the Service's selector %v does not match the pods %v", svc.Spec.Selector, podLabels)
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http-metrics" || svc.Spec.Ports[0].TargetPort.String() != "http-metrics" {
				t.Errorf("Service ports %v, want http-metrics to the container's http-metrics", svc.Spec.Ports)
			}
			if !c.has("ServiceMonitor") {
				return
			}
			sm := only[monitoringv1.ServiceMonitor](t, c, "ServiceMonitor")
			if len(sm.Spec.Selector.MatchLabels) == 0 || !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
				t.Errorf("the ServiceMonitor's selector %v does not match the Service %v", sm.Spec.Selector.MatchLabels, svc.Labels)
			}
			if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{svc.Namespace}) {
				t.Errorf("the ServiceMonitor looks in namespaces %v, the Service is in %s", sm.Spec.NamespaceSelector.MatchNames, svc.Namespace)
			}
			for _, ep := range sm.Spec.Endpoints {
				if ep.Port != svc.Spec.Ports[0].Name {
					t.Errorf("the ServiceMonitor scrapes port %q, the Service's is %q", ep.Port, svc.Spec.Ports[0].Name)
				}
			}
		})
	}
}
