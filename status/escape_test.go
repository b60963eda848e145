package status

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// A connection type is whatever the API says; the page shows it as text.
// Each type comes from a fake API through a real walk, as in pageFixture,
// and must appear escaped in the account's row, never as markup.
func TestStatusPageEscapesAPIText(t *testing.T) {
	tests := []struct {
		name, typ   string
		want, never string
	}{
		{"script element", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt; 1", "<script>"},
		{"attribute break-out", `"><img src=x onerror=alert(1)>`, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; 1", "<img"},
		{"entity", "a&amp;b", "a&amp;amp;b 1", "a&amp;b 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := vocodetest.NewServer([]vocodetest.Connection{{ID: "7f000000-0000-4000-8000-000000000001", Type: tt.typ}},
				vocodetest.WithAPIKey(secretKey))
			t.Cleanup(api.Close)
			yaml := fmt.Sprintf("accounts:\n  - {name: hostile, url: %q, api_key: %s}\n", api.URL, secretKey)
			accounts := loadAccounts(t, &yaml, account.Enabled{})
			accounts.Get("hostile").Scrape(context.Background())
			_, page := render(t, Handler(accounts, Options{MetricsPath: "/metrics"}), "/")
			row := rowOf(t, page, "hostile")
			if !strings.Contains(row, tt.want) {
				t.Errorf("row lacks the escaped type %s:\n%s", tt.want, row)
			}
			if strings.Contains(page, tt.never) {
				t.Errorf("the page holds %s unescaped:\n%s", tt.never, row)
			}
		})
	}
}
