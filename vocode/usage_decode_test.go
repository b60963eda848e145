package vocode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeUsage(t *testing.T) {
	tests := []struct {
		file string
		want Usage
	}{
		{"enterprise.json", Usage{Plan: PlanEnterprise, Minutes: 4213, LimitMinutes: 10000, HasLimit: true}},
		{"free_null_limit.json", Usage{Plan: PlanFree}},
		{"unlimited_no_limit_field.json", Usage{Plan: PlanUnlimited, Minutes: 987654}},
		// A plan of the future is kept, less its prefix and control
		// characters; a limit of 0 is a limit; unknown fields pass.
		{"unknown_plan.json", Usage{Plan: "startup", Minutes: 12, HasLimit: true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := DecodeUsage(openUsage(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestDecodeUsageErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"no_minutes.json", "usage report has no monthly_usage_minutes"},
		{"minutes_fraction.json", `malformed usage report: field "monthly_usage_minutes" holds a number where an integer was expected (offset 103)`},
		{"minutes_string.json", `malformed usage report: field "monthly_usage_minutes" holds a string where an integer was expected (offset 103)`},
		{"no_plan.json", "usage report has no plan_type"},
		{"plan_null.json", "usage report has no plan_type"},
		{"limit_string.json", `malformed usage report: field "monthly_usage_limit_minutes" holds a string where an integer was expected (offset 130)`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := DecodeUsage(openUsage(t, tt.file))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDecodeUsageShapes(t *testing.T) {
	tests := []struct {
		name, body string
		want       *Usage
		err        string
	}{
		{name: "plan without its prefix", body: `{"plan_type":"custom","monthly_usage_minutes":1}`, want: &Usage{Plan: "custom", Minutes: 1}},
		{name: "prefix after control characters", body: `{"plan_type":"\u0000plan_free","monthly_usage_minutes":1}`, want: &Usage{Plan: PlanFree, Minutes: 1}},
		{name: "empty plan", body: `{"plan_type":"","monthly_usage_minutes":1}`, want: &Usage{Minutes: 1}},
		// user_id is not decoded, so whatever it holds does not matter.
		{name: "user_id of any type", body: `{"user_id":{"x":[1]},"plan_type":"plan_free","monthly_usage_minutes":1}`, want: &Usage{Plan: PlanFree, Minutes: 1}},
		{name: "minutes at the int64 bound", body: `{"plan_type":"plan_free","monthly_usage_minutes":9223372036854775807}`,
			want: &Usage{Plan: PlanFree, Minutes: 1<<63 - 1}},
		{name: "minutes past int64", body: `{"plan_type":"plan_free","monthly_usage_minutes":9223372036854775808}`,
			err: `malformed usage report: field "monthly_usage_minutes" holds a number where an integer was expected (offset 49)`},
		{name: "minutes with an exponent", body: `{"plan_type":"plan_free","monthly_usage_minutes":1e3}`,
			err: `malformed usage report: field "monthly_usage_minutes" holds a number where an integer was expected (offset 49)`},
		{name: "minutes null", body: `{"plan_type":"plan_free","monthly_usage_minutes":null}`, err: "usage report has no monthly_usage_minutes"},
		{name: "plan as a number", body: `{"plan_type":7,"monthly_usage_minutes":1}`,
			err: `malformed usage report: field "plan_type" holds a number where a string was expected (offset 13)`},
		{name: "an array", body: `[{"plan_type":"plan_free","monthly_usage_minutes":1}]`, err: "malformed usage report: the body is an array, not a usage report object"},
		{name: "truncated", body: `{"plan_type":"plan_free",`, err: "malformed usage report: body ends before the usage report does"},
		{name: "trailing data", body: `{"plan_type":"plan_free","monthly_usage_minutes":1}{}`, err: "malformed usage report: data after the usage report object (offset 51)"},
		{name: "html", body: `<html>`, err: "malformed usage report: invalid JSON at offset 0"},
		{name: "empty", body: " \n", err: "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeUsage([]byte(tt.body))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tt.want {
				t.Errorf("got %+v, want %+v", *got, *tt.want)
			}
		})
	}
}

// A value in the wrong place is not quoted back: it could be a credential.
func TestDecodeUsageErrorsQuoteNoInput(t *testing.T) {
	for _, body := range []string{
		`{"plan_type":"plan_free","monthly_usage_minutes":987654321987.5}`,
		`{"plan_type":"plan_free","monthly_usage_minutes":"987654321987"}`,
		`{"plan_type":"plan_free","monthly_usage_minutes":1}987654321987`,
	} {
		_, err := decodeUsage([]byte(body))
		if err == nil || strings.Contains(err.Error(), "987654") {
			t.Errorf("body %s: error = %v, want one that quotes nothing", body, err)
		}
	}
}

func openUsage(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "usage", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
