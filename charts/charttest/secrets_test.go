package charttest

import (
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// keyValues are the API keys a user gives as values: apiKey.value and each
// account's apiKey.value, by the Secret entry the chart keeps them under.
func keyValues(values map[string]any) map[string]string {
	keys := map[string]string{}
	valueOf := func(v any) string {
		m, _ := v.(map[string]any)
		s, _ := m["value"].(string)
		return s
	}
	accounts, _ := values["accounts"].([]any)
	for _, a := range accounts {
		m, _ := a.(map[string]any)
		if k := valueOf(m["apiKey"]); k != "" {
			keys["account-"+m["name"].(string)] = k
		}
	}
	if len(accounts) == 0 {
		if k := valueOf(values["apiKey"]); k != "" {
			keys["api-key"] = k
		}
	}
	return keys
}

// TestKeysOnlyInSecret: a key given in values is in the chart's Secret,
// under the entry the pod mounts for its account, and in no other object:
// not in the Deployment's arguments or environment, not in a ConfigMap,
// neither as it is nor in base64.
func TestKeysOnlyInSecret(t *testing.T) {
	seen := 0
	for _, c := range ciCases(t) {
		t.Run(c.name, func(t *testing.T) {
			keys := keyValues(c.values)
			if len(keys) == 0 {
				if c.has("Secret") {
					t.Error("the chart makes a Secret though no key is given as a value")
				}
				return
			}
			seen += len(keys)
			secret := only[corev1.Secret](t, c, "Secret")
			for entry, key := range keys {
				if got := string(secret.Data[entry]); got != key {
					t.Errorf("the Secret's %s holds %q, want the key given in values", entry, got)
				}
				for _, m := range c.objects {
					if m.Kind == "Secret" {
						continue
					}
					for _, form := range []string{key, base64.StdEncoding.EncodeToString([]byte(key))} {
						if strings.Contains(m.YAML, form) {
							t.Errorf("%s %s holds the API key %s", m.Kind, m.Name, entry)
						}
					}
				}
			}
		})
	}
	if seen < 3 {
		t.Errorf("the ci values give %d keys as values; the check needs some", seen)
	}
}
