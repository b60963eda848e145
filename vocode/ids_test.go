package vocode

import (
	"strings"
	"testing"
	"unicode"
)

// Ids become label values (connection_id, number_id, a number's
// connection_id): a megabyte id must not become a megabyte label, nor a
// control character a broken line, as for every other label value.
func TestIDsFitLabels(t *testing.T) {
	huge := strings.Repeat("é", 1<<19) // 1 MiB of two-byte runes
	tests := []struct {
		name string
		ids  func() ([]string, error)
	}{
		{"connection id", func() ([]string, error) {
			p, err := decodePage([]byte(`{"items":[{"id":"` + huge + `","type":"account_connection_twilio"}],"has_more":false}`))
			if err != nil {
				return nil, err
			}
			return []string{p.Items[0].ID}, nil
		}},
		{"connection id with control characters", func() ([]string, error) {
			p, err := decodePage([]byte(`{"items":[{"id":"c1\n\u001b[31m","type":"account_connection_twilio"}],"has_more":false}`))
			if err != nil {
				return nil, err
			}
			return []string{p.Items[0].ID}, nil
		}},
		{"number id and connection id", func() ([]string, error) {
			p, err := decodeNumbersPage([]byte(`{"items":[{"id":"` + huge + `\r","number":"+1","telephony_account_connection":"` + huge + `\n"}],"has_more":false}`))
			if err != nil {
				return nil, err
			}
			return []string{p.Items[0].ID, p.Items[0].ConnectionID}, nil
		}},
		{"embedded connection id", func() ([]string, error) {
			p, err := decodeNumbersPage([]byte(`{"items":[{"id":"n\u0007","number":"+1","telephony_account_connection":{"id":"` + huge + `"}}],"has_more":false}`))
			if err != nil {
				return nil, err
			}
			return []string{p.Items[0].ID, p.Items[0].ConnectionID}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := tt.ids()
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if id == "" || len(id) > maxLabelBytes || strings.IndexFunc(id, unicode.IsControl) >= 0 ||
					(!strings.HasPrefix(huge, id) && id != "c1[31m" && id != "n") {
					t.Errorf("id %q (%d bytes) is not fit for a label", prefix(id, 40), len(id))
				}
			}
		})
	}
	// An id of control characters alone is no id.
	if _, err := decodePage([]byte(`{"items":[{"id":"\n\t","type":"account_connection_twilio"}],"has_more":false}`)); err == nil {
		t.Error("an id of control characters alone was taken")
	}
}
