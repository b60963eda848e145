package vocode_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// fuzzSecret stands for a Twilio auth token or an OpenAI key. Seeds carry
// the placeholder fuzzPlaceholder where a credential would be; the fuzz
// function swaps in the secret, and also plants it at an arbitrary offset.
const (
	fuzzSecret      = "TWfuzzCanary9Qx2Lm7Pz4"
	fuzzPlaceholder = "@SECRET@"
	// maxErrorLen bounds an error's text: a short description, never a body.
	maxErrorLen = 300
)

// FuzzDecodePage feeds the page decoder anything at all. Whatever the input:
// no panic; an error or a page, never both or neither; an error that quotes
// nothing of the input, so never a secret; and a page that agrees with
// encoding/json's own reading of the same bytes.
func FuzzDecodePage(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecodePage.
	f.Add([]byte(`{"items":[],"page":1,"size":100,"has_more":false,"total":0,"total_is_estimated":false}`), uint16(0))
	f.Add([]byte(`{"items":[{"id":"a","type":"account_connection_twilio","credentials":{"twilio_auth_token":"@SECRET@"},"steering_pool":["+15550000001"]}],"has_more":false}`), uint16(90))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		checkDecode(t, data, false)
		checkDecode(t, bytes.ReplaceAll(data, []byte(fuzzPlaceholder), []byte(fuzzSecret)), true)
		pos := int(at) % (len(data) + 1)
		planted := append(append(append([]byte{}, data[:pos]...), fuzzSecret...), data[pos:]...)
		checkDecode(t, planted, true)
	})
}

func checkDecode(t *testing.T, data []byte, secret bool) {
	t.Helper()
	p, err := vocode.DecodePage(bytes.NewReader(data))
	if (p == nil) == (err == nil) {
		t.Fatalf("DecodePage returned page %v and error %v: want exactly one", p, err)
	}
	if err != nil {
		msg := err.Error()
		if secret && strings.Contains(msg, fuzzSecret) {
			t.Fatalf("the error quotes a secret: %s", msg)
		}
		if len(msg) > maxErrorLen {
			t.Fatalf("a %d-byte error: it quotes input? %.400s", len(msg), msg)
		}
		if !utf8.ValidString(msg) {
			t.Fatalf("the error is not valid UTF-8: %q", msg)
		}
		return
	}
	if p.HasTotal && p.Total < 0 {
		t.Fatalf("negative total %d accepted", p.Total)
	}
	if !p.HasTotal && p.Total != 0 {
		t.Fatalf("total %d without HasTotal", p.Total)
	}

	// encoding/json, asked for the same fields with plain types, must see
	// the same page: the pool counter must count what a full decode of
	// the array would hold.
	var mirror struct {
		Items []struct {
			ID           string            `json:"id"`
			Type         string            `json:"type"`
			SteeringPool []json.RawMessage `json:"steering_pool"`
			AnyCallerID  *bool             `json:"account_supports_any_caller_id"`
		} `json:"items"`
		Page    *int `json:"page"`
		HasMore bool `json:"has_more"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&mirror); err != nil {
		t.Fatalf("DecodePage accepted a page encoding/json rejects: %v", err)
	}
	if len(p.Items) != len(mirror.Items) {
		t.Fatalf("%d items, encoding/json sees %d", len(p.Items), len(mirror.Items))
	}
	if p.HasMore != mirror.HasMore {
		t.Fatalf("has_more %v, encoding/json sees %v", p.HasMore, mirror.HasMore)
	}
	if mirror.Page != nil && p.Page != *mirror.Page {
		t.Fatalf("page %d, encoding/json sees %d", p.Page, *mirror.Page)
	}
	for i, c := range p.Items {
		m := mirror.Items[i]
		if c.ID == "" || c.Type == "" {
			t.Fatalf("item %d accepted without id or type: %+v", i, c)
		}
		if c.ID != m.ID || c.Type != m.Type {
			t.Fatalf("item %d is %q/%q, encoding/json sees %q/%q", i, c.ID, c.Type, m.ID, m.Type)
		}
		if c.SteeringPoolSize != len(m.SteeringPool) {
			t.Fatalf("item %d: steering pool of %d, encoding/json sees %d numbers", i, c.SteeringPoolSize, len(m.SteeringPool))
		}
		if want := m.AnyCallerID != nil && *m.AnyCallerID; c.SupportsAnyCallerID != want {
			t.Fatalf("item %d: supports any caller id %v, encoding/json sees %v", i, c.SupportsAnyCallerID, want)
		}
	}
}
