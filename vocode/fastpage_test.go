package vocode

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The fast decoder must never disagree with encoding/json: whatever it
// accepts, encoding/json decodes to the same page, error for error.
func FuzzFastMatchesJSON(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "pages", "*.json"))
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"items":[{"id":"a","ID":"b","type":"account_connection_twilio"}],"has_more":false}`,
		`{"items":[{"id":"a","type":"account_connection_twilio","steering_pool":null,"account_supports_any_caller_id":null}],"has_more":false,"total":1}`,
		`{"items":[{"id":"\u0061","type":"x"}],"has_more":true}`,
		`{"items":[],"has_more":false,"haſ_more":true}`,
		`{"items":[],"has_more":false,"page":01}`,
		`{"items":[],"has_more":false,"total":1e2}`,
		`{"items":[{"id":"é","type":"x","steering_pool":[1,[2,{"a":"]"}],"x\"y"]}],"has_more":false} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, ok := decodeFast(b)
		if !ok {
			return
		}
		fast, fastErr := raw.page()
		slow, slowErr := decodeJSON(b)
		if (fastErr == nil) != (slowErr == nil) || (fastErr != nil && fastErr.Error() != slowErr.Error()) {
			t.Fatalf("errors differ: fast %v, encoding/json %v", fastErr, slowErr)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("pages differ:\nfast %+v\njson %+v", fast, slow)
		}
	})
}

// The usual page takes the fast path; odd ones fall back.
func TestDecodeFastTakesTheUsualPage(t *testing.T) {
	for file, want := range map[string]bool{
		"full.json": true, "pre2024.json": true, "optional_missing.json": true, "unknown_fields.json": true,
		"empty.json": false, "html.json": false, "truncated.json": false, "page_as_string.json": false,
		"trailing_data.json": false, "pool_not_array.json": false, "items_null.json": false,
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "pages", file))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := decodeFast(b); ok != want {
			t.Errorf("%s: fast path %v, want %v", file, ok, want)
		}
	}
}
