package vocode

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDecodePage(t *testing.T) {
	tests := []struct {
		file string
		want *Page
	}{
		{"full.json", &Page{Page: 1, Total: 2, HasTotal: true, Items: []Connection{
			{ID: "t1", Type: TypeTwilio, SteeringPoolSize: 2, SupportsAnyCallerID: true},
			{ID: "o1", Type: TypeOpenAI},
		}}},
		{"pre2024.json", &Page{Page: 2, HasMore: true, Items: []Connection{{ID: "t1", Type: TypeTwilio}}}},
		{"optional_missing.json", &Page{Total: 3, HasTotal: true, TotalIsEstimated: true, Items: []Connection{
			{ID: "t1", Type: TypeTwilio}, {ID: "t2", Type: TypeTwilio}, {ID: "t3", Type: TypeTwilio},
		}}},
		// Fields of the successor API and unknown types pass; commas and
		// brackets inside pool strings do not miscount the pool.
		{"unknown_fields.json", &Page{Page: 1, Total: 1, HasTotal: true, Items: []Connection{
			{ID: "x1", Type: "account_connection_telnyx", SteeringPoolSize: 2},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := DecodePage(openPage(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodePageErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"items_null.json", "page has no items list"},
		{"has_more_missing.json", "page has no has_more field"},
		{"page_as_string.json", `malformed page: field "page" holds a string where int was expected (offset 22)`},
		{"truncated.json", "malformed page: body ends before the page does"},
		{"empty.json", "empty body"},
		{"html.json", "malformed page: invalid JSON at offset 1"},
		{"missing_id.json", "item 0 has no id"},
		{"pool_not_array.json", "malformed page: steering_pool is not an array"},
		{"trailing_data.json", "malformed page: data after the page object"},
		{"negative_total.json", "page has a negative total"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := DecodePage(openPage(t, tt.file))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// A number where a string belongs must not be quoted back: it could be a
// credential an API sent in the wrong place.
func TestDecodePageErrorsQuoteNoInput(t *testing.T) {
	_, err := DecodePage(strings.NewReader(`{"items":[{"id":987654321987,"type":"x"}],"has_more":false}`))
	if err == nil || strings.Contains(err.Error(), "987654321987") {
		t.Fatalf("error = %v, want one that does not quote the number", err)
	}
}

func TestCountArrayElements(t *testing.T) {
	tests := map[string]int{
		`[]`: 0, `[ ]`: 0, `["a"]`: 1, `["a","b"]`: 2, `["a,b", "c\"]", "d\\"]`: 3,
		`[[1,2],{"a":[3,4]},5]`: 3, "[\n\"x\"\n]": 1,
	}
	for in, want := range tests {
		if got, err := countArrayElements([]byte(in)); err != nil || got != want {
			t.Errorf("countArrayElements(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestConnectionKind(t *testing.T) {
	for in, want := range map[string]string{TypeTwilio: "twilio", TypeOpenAI: "openai", "account_connection_x": "x", "other": "other"} {
		if got := (Connection{Type: in}).Kind(); got != want {
			t.Errorf("Kind(%q) = %q, want %q", in, got, want)
		}
	}
}

func openPage(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "pages", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
