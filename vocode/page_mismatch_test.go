package vocode_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// A page that answers for another page than the one asked for is broken
// pagination, not a hint: the walk fails with reason pagination, whether
// the page is walked alone or among concurrent ones, on either list. A
// page that leaves its number out says nothing wrong.
func TestPageNumberMismatch(t *testing.T) {
	const item = `{"id":"7f000000-0000-4000-8000-000000000001","type":"account_connection_openai","credentials":{}}`
	tests := []struct {
		name     string
		endpoint string
		fault    vocodetest.Fault
		wantPage int    // 0: the walk succeeds
		detail   string // in the error
	}{
		{name: "page 1 answers for page 7", endpoint: vocodetest.EndpointConnections,
			fault:    vocodetest.Fault{Page: 1, Handler: vocodetest.Raw(200, "application/json", `{"items":[`+item+`],"page":7,"size":100,"has_more":false}`)},
			wantPage: 1, detail: "asked for page 1, the API served page 7"},
		{name: "concurrent page 2 answers for page 1", endpoint: vocodetest.EndpointConnections,
			fault:    vocodetest.Fault{Page: 2, Handler: vocodetest.Raw(200, "application/json", `{"items":[`+item+`],"page":1,"size":100,"has_more":true}`)},
			wantPage: 2, detail: "asked for page 2, the API served page 1"},
		{name: "numbers page 2 answers for page 3", endpoint: vocodetest.EndpointNumbers,
			fault:    vocodetest.Fault{Endpoint: vocodetest.EndpointNumbers, Page: 2, Handler: vocodetest.Raw(200, "application/json", `{"items":[],"page":3,"size":100,"has_more":false}`)},
			wantPage: 2, detail: "asked for page 2, the API served page 3"},
		{name: "page number left out", endpoint: vocodetest.EndpointConnections,
			fault: vocodetest.Fault{Page: 1, Handler: vocodetest.Raw(200, "application/json", `{"items":[`+item+`],"has_more":false}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := numbersServer(t, 250)
			s.SetConnections(vocodetest.Dataset(150, 100))
			s.AddFault(tt.fault)
			c := newClient(t, s, vocode.Options{PageSize: 100})
			var err error
			if tt.endpoint == vocodetest.EndpointNumbers {
				_, err = c.WalkNumbers(context.Background())
			} else {
				_, err = c.Walk(context.Background())
			}
			if tt.wantPage == 0 {
				if err != nil {
					t.Fatalf("walk failed: %v", err)
				}
				return
			}
			var e *vocode.Error
			if !errors.As(err, &e) || e.Reason != vocode.ReasonPagination || e.Page != tt.wantPage ||
				e.Endpoint != tt.endpoint || !strings.Contains(e.Detail, tt.detail) {
				t.Errorf("err = %v, want pagination on %s page %d: %s", err, tt.endpoint, tt.wantPage, tt.detail)
			}
		})
	}
}
