package vocode

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeNumbersPage(t *testing.T) {
	tests := []struct {
		file string
		want *NumberPage
	}{
		// An id, an embedded connection with its credentials, an older
		// embedded agent, control characters, fields of the successor API.
		{"full.json", &NumberPage{Page: 1, Total: 4, HasTotal: true, Items: []Number{
			{ID: "9a000001-0000-4000-8000-000000000001", Number: "+12025550101", Label: "Support line", Provider: ProviderTwilio,
				Active: true, HasInboundAgent: true, ConnectionID: "7c000001-0000-4000-8000-000000000001"},
			{ID: "9a000002-0000-4000-8000-000000000002", Number: "+12025550102", Label: "Sales", Provider: ProviderTwilio,
				Active: true, OutboundOnly: true, ConnectionID: "7c000002-0000-4000-8000-000000000002"},
			{ID: "9a000003-0000-4000-8000-000000000003", Number: "+442079460000", Label: "Old linesecond[31m", Provider: ProviderVonage,
				HasInboundAgent: true},
			{ID: "9a000004-0000-4000-8000-000000000004", Number: "+12025550104", Provider: ProviderTwilio,
				Active: true, ConnectionID: "7cdeaded-0000-4000-8000-000000000009"},
		}}},
		// Only the required fields: the schema's defaults apply.
		{"defaults.json", &NumberPage{Page: 2, HasMore: true, Total: 11, HasTotal: true, TotalIsEstimated: true, Items: []Number{
			{ID: "9b000001-0000-4000-8000-000000000001", Number: "+12025550111", Provider: ProviderVonage, Active: true},
		}}},
		// null wherever it is allowed, and where it is not, in hints.
		{"nulls.json", &NumberPage{Items: []Number{
			{ID: "9c000001-0000-4000-8000-000000000001", Number: "+12025550121", Provider: ProviderVonage, Active: true},
		}}},
		{"pre2024.json", &NumberPage{Page: 1, Items: []Number{
			{ID: "9d000001-0000-4000-8000-000000000001", Number: "+12025550131", Label: "Main", Provider: ProviderTwilio,
				Active: true, HasInboundAgent: true, ConnectionID: "7c000009-0000-4000-8000-000000000009"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := DecodeNumbersPage(openNumbers(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The credentials of an embedded connection reach no value of ours: not
// the page, and not anything fmt can print of it.
func TestDecodeNumbersPageKeepsNoCredentials(t *testing.T) {
	secrets := []string{
		"AC5f0c1a2b3c4d5e6f708192a3b4c5d6e7", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", // full.json
		"ACffeeddccbbaa99887766554433221100", "00112233445566778899aabbccddeeff", // pre2024.json
	}
	for _, file := range []string{"full.json", "pre2024.json"} {
		p, err := DecodeNumbersPage(openNumbers(t, file))
		if err != nil {
			t.Fatal(err)
		}
		printed := fmt.Sprintf("%+v %#v", p, p.Items)
		for _, s := range secrets {
			if strings.Contains(printed, s) {
				t.Errorf("%s: a credential reached the page: %s", file, printed)
			}
		}
	}
}

func TestDecodeNumbersPageErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"missing_id.json", "item 1 has no id"},
		{"missing_number.json", "item 0 has no number"},
		{"embedded_without_id.json", "item 0: its embedded telephony_account_connection has no id"},
		{"embedded_id_not_string.json", "malformed page: the id of an embedded telephony_account_connection is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := DecodeNumbersPage(openNumbers(t, tt.file))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "f0e1d2c3") || strings.Contains(err.Error(), "4242") {
				t.Errorf("error %q quotes the page", err)
			}
		})
	}
}

// Each shape of the union fields, alone in an otherwise minimal number.
func TestDecodeNumberFields(t *testing.T) {
	base := Number{ID: "n", Number: "+1", Provider: ProviderVonage, Active: true}
	tests := []struct {
		name  string
		field string // one more field of the item
		want  func(n *Number)
		err   string
	}{
		{"connection id", `"telephony_account_connection":"c-1"`, func(n *Number) { n.ConnectionID = "c-1" }, ""},
		{"connection id with escapes", `"telephony_account_connection":"c\u002d1\/x"`, func(n *Number) { n.ConnectionID = "c-1/x" }, ""},
		{"connection id of invalid UTF-8", "\"telephony_account_connection\":\"c\xff1\"", func(n *Number) { n.ConnectionID = "c\uFFFD1" }, ""},
		{"empty connection id", `"telephony_account_connection":""`, func(*Number) {}, ""},
		{"embedded connection", `"telephony_account_connection":{"credentials":{"twilio_auth_token":"t"},"id":"c-2"}`,
			func(n *Number) { n.ConnectionID = "c-2" }, ""},
		{"embedded connection with credentials of any shape", `"telephony_account_connection":{"id":"c-3","credentials":[1,{"a":null}]}`,
			func(n *Number) { n.ConnectionID = "c-3" }, ""},
		{"null connection", `"telephony_account_connection":null`, func(*Number) {}, ""},
		{"connection as a number", `"telephony_account_connection":12`, nil,
			"malformed page: telephony_account_connection holds a number where a connection id, a connection object or null was expected"},
		{"connection as an array", `"telephony_account_connection":["c-1"]`, nil,
			"malformed page: telephony_account_connection holds an array where a connection id, a connection object or null was expected"},
		{"connection as a boolean", `"telephony_account_connection":true`, nil,
			"malformed page: telephony_account_connection holds a boolean where a connection id, a connection object or null was expected"},
		{"embedded connection with a null id", `"telephony_account_connection":{"id":null}`, nil,
			"item 0: its embedded telephony_account_connection has no id"},
		{"agent id", `"inbound_agent":"a-1"`, func(n *Number) { n.HasInboundAgent = true }, ""},
		{"empty agent id", `"inbound_agent":""`, func(*Number) {}, ""},
		{"agent id of a space", `"inbound_agent":" "`, func(n *Number) { n.HasInboundAgent = true }, ""},
		{"null agent", `"inbound_agent":null`, func(*Number) {}, ""},
		{"embedded agent", `"inbound_agent":{"id":"a-1","prompt":{"content":"x"}}`, func(n *Number) { n.HasInboundAgent = true }, ""},
		{"empty embedded agent", `"inbound_agent":{}`, func(n *Number) { n.HasInboundAgent = true }, ""},
		{"agent as a number", `"inbound_agent":7`, nil,
			"malformed page: inbound_agent holds a number where an agent id, an agent object or null was expected"},
		{"agent as an array", `"inbound_agent":[]`, nil,
			"malformed page: inbound_agent holds an array where an agent id, an agent object or null was expected"},
		{"inactive", `"active":false`, func(n *Number) { n.Active = false }, ""},
		{"active null", `"active":null`, func(*Number) {}, ""},
		{"active as a string", `"active":"false"`, nil,
			`malformed page: field "items.active" holds a string where a boolean was expected (offset 43)`},
		{"outbound only", `"outbound_only":true`, func(n *Number) { n.OutboundOnly = true }, ""},
		{"twilio", `"telephony_provider":"twilio"`, func(n *Number) { n.Provider = ProviderTwilio }, ""},
		{"a provider of the future", `"telephony_provider":"tel\u0000nyx"`, func(n *Number) { n.Provider = "telnyx" }, ""},
		{"empty provider", `"telephony_provider":""`, func(*Number) {}, ""},
		{"provider as a number", `"telephony_provider":1`, nil,
			`malformed page: field "items.telephony_provider" holds a number where a string was expected (offset 55)`},
		{"label with control characters", `"label":"\u0000a\tb\r\nc\u007f\u0085\u2028d"`, func(n *Number) { n.Label = "abc\u2028d" }, ""},
		{"label of any other text", `"label":"Ünïcode ☎ <b>"`, func(n *Number) { n.Label = "Ünïcode ☎ <b>" }, ""},
		{"number of control characters only", `"number":"\n\t"`, nil, "item 0 has no number"},
		// For id, the item is {"id":...,"number":"+1"}: after "id":"n",
		// null would leave "n" in place.
		{"id null", `"id":null`, nil, "item 0 has no id"},
		{"id as a number", `"id":4242424242`, nil,
			`malformed page: field "items.id" holds a number where a string was expected (offset 16)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"items":[{"id":"n","number":"+1",` + tt.field + `}],"has_more":false}`
			if strings.HasPrefix(tt.field, `"id":`) {
				body = `{"items":[{` + tt.field + `,"number":"+1"}],"has_more":false}`
			}
			p, err := decodeNumbersPage([]byte(body))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := base
			tt.want(&want)
			if len(p.Items) != 1 || p.Items[0] != want {
				t.Errorf("got  %+v\nwant %+v", p.Items, want)
			}
		})
	}
}

// A page of numbers is read like a page of connections: the same required
// fields and hints.
func TestDecodeNumbersPageShape(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"no items", `{"has_more":false}`, "page has no items list"},
		{"no has_more", `{"items":[]}`, "page has no has_more field"},
		{"empty", ``, "empty body"},
		{"truncated", `{"items":[{"id":"n",`, "malformed page: body ends before the page does"},
		{"trailing data", `{"items":[],"has_more":false} x`, "malformed page: data after the page object (offset 30)"},
		{"an array", `[]`, "malformed page: the body is an array, not a page object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeNumbersPage([]byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStripControl(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "plain": "plain", "a\x00b": "ab", "\x1b[2Jx": "[2Jx", "tab\there": "tabhere",
		"del\x7f": "del", "c1\u0085\u009f": "c1", "line\u2028sep": "line\u2028sep", "☎": "☎",
	} {
		if got := stripControl(in); got != want {
			t.Errorf("stripControl(%q) = %q, want %q", in, got, want)
		}
	}
}

func openNumbers(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "numbers", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// API text bound for a label value loses its control characters and is
// cut at 128 bytes, between runes, so that the value stays valid UTF-8.
func TestLabelText(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "Support line", "Support line"},
		{"control characters", "a\x00b\tc\r\nd\x1b[31m\u0085", "abcd[31m"},
		{"exactly 128 bytes", long[:128], long[:128]},
		{"129 bytes", long[:129], long[:128]},
		{"a 2-byte rune across the cut", long[:127] + "é", long[:127]},
		{"a 3-byte rune across the cut", long[:126] + "☎", long[:126]},
		{"a 3-byte rune ending at the cut", long[:125] + "☎" + "x", long[:125] + "☎"},
		{"a 4-byte rune across the cut", long[:125] + "😀", long[:125]},
		{"runes only", strings.Repeat("☎", 50), strings.Repeat("☎", 42)},
		{"control characters before the cut count for nothing", strings.Repeat("\x00", 50) + long[:128], long[:128]},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := labelText(tt.in)
			if got != tt.want {
				t.Errorf("labelText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if len(got) > maxLabelBytes || !utf8.ValidString(got) {
				t.Errorf("labelText(%q) = %q: %d bytes, valid UTF-8 %v", tt.in, got, len(got), utf8.ValidString(got))
			}
		})
	}
}

// A label of a megabyte goes through the decoder and comes out cut, with
// the plan, the connection type and the number the same way.
func TestHugeLabelsAreCut(t *testing.T) {
	huge := strings.Repeat("☎", 1<<20/3) // 1 MiB of 3-byte runes
	want := labelText(huge)
	if want != strings.Repeat("☎", 42) {
		t.Fatalf("the cut label is %d bytes, want 126: 42 whole runes", len(want))
	}
	nums, err := decodeNumbersPage([]byte(`{"items":[{"id":"n","number":"` + huge + `","label":"` + huge +
		`","telephony_provider":"` + huge + `"}],"has_more":false}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := nums.Items[0]; n.Label != want || n.Number != want || n.Provider != want {
		t.Errorf("number %d bytes, label %d, provider %d: want %d each", len(n.Number), len(n.Label), len(n.Provider), len(want))
	}
	conns, err := decodePage([]byte(`{"items":[{"id":"c","type":"` + huge + `"}],"has_more":false}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := conns.Items[0].Type; got != want {
		t.Errorf("type of %d bytes, want %d", len(got), len(want))
	}
	u, err := decodeUsage([]byte(`{"plan_type":"plan_` + huge + `","monthly_usage_minutes":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if u.Plan != want {
		t.Errorf("plan of %d bytes, want %d", len(u.Plan), len(want))
	}
}
