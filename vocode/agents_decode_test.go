package vocode

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func openAgents(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "agents", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// Every shape of the three settings (an embedded object, an id, an empty
// id, null, missing) and of the name (text, null, control characters,
// empty), beside what an agent embeds and must never reach a value of
// ours: an OpenAI key, a prompt, a webhook URL with a token, a voice
// provider's key.
func TestDecodeAgentsPage(t *testing.T) {
	got, err := DecodeAgentsPage(openAgents(t, "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &AgentPage{Page: 1, Total: 4, HasTotal: true, Items: []Agent{
		{ID: "a1000001-0000-4000-8000-000000000001", Name: "Front desk", OwnOpenAIConnection: true, LLMFallback: true, Webhook: true},
		{ID: "a1000002-0000-4000-8000-000000000002", OwnOpenAIConnection: true, Webhook: true},
		{ID: "a1000003-0000-4000-8000-000000000003", Name: "Billing[31m"},
		{ID: "a1000004-0000-4000-8000-000000000004"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	printed := fmt.Sprintf("%+v %#v", got, got.Items)
	for _, secret := range []string{"canary", "sk-proj", "hook-secret", "sk_el_", "door code", "successor"} {
		if strings.Contains(printed, secret) {
			t.Errorf("%q reached the page: %s", secret, printed)
		}
	}
}

// Each setting of another kind than the API documents fails the page,
// naming the field and quoting nothing.
func TestDecodeAgentFieldErrors(t *testing.T) {
	tests := []struct{ field, want string }{
		{`"openai_account_connection":12`, "openai_account_connection holds a number where an id, an object or null was expected"},
		{`"openai_account_connection":true`, "openai_account_connection holds a boolean where an id, an object or null was expected"},
		{`"webhook":["https://h.example/?token=tok-4242"]`, "webhook holds an array where an id, an object or null was expected"},
		{`"llm_fallback":"azure-4242"`, "llm_fallback holds a string where an object or null was expected"},
		{`"name":4242`, `field "items.name" holds a number where a string was expected`},
		{`"user_id":"u"`, "item 0 has no id"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			id := `"id":"a",`
			if tt.want == "item 0 has no id" {
				id = ""
			}
			_, err := DecodeAgentsPage(strings.NewReader(`{"items":[{` + id + tt.field + `}],"has_more":false}`))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "4242") {
				t.Errorf("error %q quotes the page", err)
			}
		})
	}
}
