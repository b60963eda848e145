package charttest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

// mountRoot is where the chart mounts every file the exporter reads.
const mountRoot = "/etc/vocode-exporter"

// podFiles lays the files the pod would see below dir, as the chart
// mounts them: its ConfigMap's entries, the keys of its Secret or a stand-in
// for a Secret the user made, a fresh certificate for a TLS Secret. Paths
// under mountRoot inside the config files are moved below dir too.
func podFiles(t *testing.T, c ciCase, dir string) {
	t.Helper()
	dep := only[appsv1.Deployment](t, c, "Deployment")
	pod := dep.Spec.Template.Spec
	var cm corev1.ConfigMap
	if c.has("ConfigMap") {
		for _, m := range c.objects {
			if m.Kind == "ConfigMap" && m.Name == dep.Name {
				cm = decode[corev1.ConfigMap](t, m)
			}
		}
	}
	var secret corev1.Secret
	if c.has("Secret") {
		secret = only[corev1.Secret](t, c, "Secret")
	}
	write := func(p string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, vm := range pod.Containers[0].VolumeMounts {
		var vol *corev1.Volume
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == vm.Name {
				vol = &pod.Volumes[i]
			}
		}
		if vol == nil {
			t.Fatalf("volume mount %s names no volume", vm.Name)
		}
		at := filepath.Join(dir, vm.MountPath)
		switch {
		case vol.Projected != nil:
			for _, src := range vol.Projected.Sources {
				if src.Secret == nil {
					t.Fatalf("projected volume %s has a source other than a Secret", vol.Name)
				}
				for _, it := range src.Secret.Items {
					data := []byte("key-from-the-users-secret")
					if src.Secret.Name == secret.Name {
						d, ok := secret.Data[it.Key]
						if !ok {
							t.Fatalf("volume %s projects entry %q of the chart's Secret, which has none", vol.Name, it.Key)
						}
						data = d
					}
					write(filepath.Join(at, it.Path), data)
				}
			}
		case vol.ConfigMap != nil:
			if vol.ConfigMap.Name != cm.Name {
				t.Fatalf("volume %s mounts ConfigMap %q, the chart makes %q", vol.Name, vol.ConfigMap.Name, cm.Name)
			}
			for name, text := range cm.Data {
				write(filepath.Join(at, name), []byte(strings.ReplaceAll(text, mountRoot+"/", filepath.Join(dir, mountRoot)+"/")))
			}
		case vol.Secret != nil && vol.Secret.SecretName == c.value("webConfig.tls.existingSecret"):
			cert, key := selfSignedCert(t)
			write(filepath.Join(at, "tls.crt"), cert)
			write(filepath.Join(at, "tls.key"), key)
		default:
			t.Fatalf("volume %s: a kind this test does not lay out", vol.Name)
		}
	}
}

// checkArgs runs the exporter with the pod's arguments, paths moved below
// a directory holding the pod's files, and --config.check: the exporter
// parses every flag (an unknown one is an error), then loads the
// configuration and every key file, and exits 0 only if all is well. The
// web config, which the exporter reads only when it serves, is checked
// with exporter-toolkit's own validation.
func checkArgs(t *testing.T, bin string, c ciCase) (string, error) {
	t.Helper()
	dir := t.TempDir()
	podFiles(t, c, dir)
	dep := only[appsv1.Deployment](t, c, "Deployment")
	ctr := dep.Spec.Template.Spec.Containers[0]
	if len(ctr.Command) > 0 {
		t.Fatalf("the container overrides the image's entry point with %q", ctr.Command)
	}
	var args []string
	for _, a := range ctr.Args {
		a = strings.ReplaceAll(a, "="+mountRoot+"/", "="+filepath.Join(dir, mountRoot)+"/")
		if v, ok := strings.CutPrefix(a, "--web.config.file="); ok {
			if err := web.Validate(v); err != nil {
				t.Errorf("--web.config.file: exporter-toolkit refuses it: %v", err)
			}
		}
		args = append(args, a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append(args, "--config.check")...).CombinedOutput()
	return string(out), err
}

// TestArgsAcceptedByExporter: the built exporter accepts every argument the
// Deployment gives it, and the configuration and key files they name.
func TestArgsAcceptedByExporter(t *testing.T) {
	bin := e2e.Build(t)
	cases := ciCases(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := checkArgs(t, bin, c)
			if err != nil {
				t.Fatalf("the exporter refuses the Deployment's arguments: %v\n%s", err, out)
			}
			t.Logf("--config.check: %s", strings.TrimSpace(out))
		})
	}
	// The check fails for a flag the exporter does not have.
	t.Run("unknown flag", func(t *testing.T) {
		c := cases[0]
		v := map[string]any{}
		for k, val := range c.values {
			v[k] = val
		}
		v["extraArgs"] = []any{"--vocode.no-such-flag=1"}
		objs, err := Render(loadChart(t), v)
		if err != nil {
			t.Fatal(err)
		}
		c.objects = objs
		if out, err := checkArgs(t, bin, c); err == nil || !strings.Contains(out, "no-such-flag") {
			t.Errorf("the exporter took --vocode.no-such-flag: %v\n%s", err, out)
		}
	})
}

// selfSignedCert is a PEM certificate and key for localhost.
func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vocode-exporter"},
		DNSNames: []string{"vocode-exporter"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}
