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
		// Hints that hold no plausible value read as absent.
		{"negative_total.json", &Page{Items: []Connection{}}},
		{"page_as_string.json", &Page{Items: []Connection{}}},
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
		{"truncated.json", "malformed page: body ends before the page does"},
		{"empty.json", "empty body"},
		{"html.json", "malformed page: invalid JSON at offset 0"},
		{"missing_id.json", "item 0 has no id"},
		{"pool_not_array.json", "malformed page: steering_pool is not an array but a string (offset 70)"},
		{"trailing_data.json", "malformed page: data after the page object (offset 30)"},
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

// The required fields keep their types: a page that gets them wrong is
// refused with a message that names the field and quotes nothing.
func TestDecodePageTypeErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"has_more as a string", `{"items":[],"has_more":"false"}`,
			`malformed page: field "has_more" holds a string where a boolean was expected (offset 23)`},
		{"items as an object", `{"items":{},"has_more":false}`,
			`malformed page: field "items" holds an object where an array was expected (offset 9)`},
		{"id as a number", `{"items":[{"id":12,"type":"x"}],"has_more":false}`,
			`malformed page: field "items.id" holds a number where a string was expected (offset 16)`},
		{"steering pool as an object", `{"items":[{"id":"a","type":"x","steering_pool":{"n":1}}],"has_more":false}`,
			`malformed page: steering_pool is not an array but an object (offset 46)`},
		{"steering pool as a number", `{"items":[{"id":"a","type":"x","steering_pool":3}],"has_more":false}`,
			`malformed page: steering_pool is not an array but a number (offset 46)`},
		{"a top-level array", `[{"items":[],"has_more":false}]`, "malformed page: the body is an array, not a page object"},
		{"a top-level string", `"page"`, "malformed page: the body is a string, not a page object"},
		{"white space only", " \r\n\t", "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodePage(strings.NewReader(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// total, total_is_estimated and page are hints: whatever they hold, the
// page decodes, and a value that is no plausible count reads as absent.
func TestDecodePageHints(t *testing.T) {
	const items = `"items":[{"id":"a","type":"account_connection_openai"}],"has_more":false`
	tests := []struct {
		name  string
		extra string // more fields of the page object
		want  Page   // Items aside
	}{
		{"negative total", `"total":-3`, Page{}},
		{"fractional total", `"total":2.5`, Page{}},
		{"total with an exponent", `"total":1e2`, Page{}},
		{"total as a string", `"total":"1"`, Page{}},
		{"total null", `"total":null,"total_is_estimated":false`, Page{}},
		{"total as an object", `"total":{"value":1}`, Page{}},
		{"total as an array", `"total":[1]`, Page{}},
		{"total as a boolean", `"total":true`, Page{}},
		{"total past the bound", `"total":1000000001`, Page{}},
		{"total past int64", `"total":99999999999999999999`, Page{}},
		{"total of 1e30", `"total":1e30`, Page{}},
		{"total at the bound", `"total":1000000000`, Page{Total: 1_000_000_000, HasTotal: true}},
		{"total zero", `"total":0`, Page{HasTotal: true}},
		{"total minus zero", `"total":-0`, Page{HasTotal: true}},
		{"estimated as a string", `"total":5,"total_is_estimated":"true"`, Page{Total: 5, HasTotal: true}},
		{"estimated as a number", `"total":5,"total_is_estimated":1`, Page{Total: 5, HasTotal: true}},
		{"estimated null", `"total":5,"total_is_estimated":null`, Page{Total: 5, HasTotal: true}},
		{"estimated true", `"total":5,"total_is_estimated":true`, Page{Total: 5, HasTotal: true, TotalIsEstimated: true}},
		{"page as a string", `"page":"1"`, Page{}},
		{"fractional page", `"page":1.5`, Page{}},
		{"page null", `"page":null`, Page{}},
		{"page as an object", `"page":{}`, Page{}},
		{"page past int64", `"page":99999999999999999999`, Page{}},
		{"page", `"page":3`, Page{Page: 3}},
		{"later key wins", `"total":7,"total":"x","page":2,"page":[]`, Page{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePage(strings.NewReader("{" + items + "," + tt.extra + "}"))
			if err != nil {
				t.Fatalf("a hint failed the page: %v", err)
			}
			want := tt.want
			want.Items = []Connection{{ID: "a", Type: TypeOpenAI}}
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("got %+v\nwant %+v", got, &want)
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

func TestSteeringPoolSize(t *testing.T) {
	tests := map[string]int{
		``: 0, `,"steering_pool":null`: 0, `,"steering_pool":[]`: 0, `,"steering_pool":[ ]`: 0,
		`,"steering_pool":["a"]`: 1, `,"steering_pool":["a","b"]`: 2,
		`,"steering_pool":["a,b", "c\"]", "d\\"]`: 3,
		`,"steering_pool":[[1,2],{"a":[3,4]},5]`:  3, ",\"steering_pool\":[\n\"x\"\n]": 1,
		`,"steering_pool":[` + strings.Repeat(`"+15550000000",`, 99_999) + `"+15550000000"]`: 100_000,
	}
	for pool, want := range tests {
		body := `{"items":[{"id":"a","type":"account_connection_twilio"` + pool + `}],"has_more":false}`
		p, err := DecodePage(strings.NewReader(body))
		if err != nil {
			t.Errorf("pool %.40s: %v", pool, err)
			continue
		}
		if got := p.Items[0].SteeringPoolSize; got != want {
			t.Errorf("pool %.40s: size %d, want %d", pool, got, want)
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
