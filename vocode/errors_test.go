package vocode_test

import (
	"errors"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// An Error's message starts with what the client was doing, so that a log
// line tells the endpoint apart; an Error made without an endpoint is the
// connection list's, as every Error was before there were others.
func TestErrorSaysWhichEndpoint(t *testing.T) {
	tests := []struct {
		name string
		err  *vocode.Error
		want string
	}{
		{"no endpoint", &vocode.Error{Reason: vocode.ReasonTimeout, Detail: "deadline"},
			"list account connections: timeout: deadline"},
		{"connection list", &vocode.Error{Reason: vocode.ReasonServerError, Endpoint: vocode.EndpointList, Page: 3, Status: 502},
			"list account connections: server_error on page 3 (HTTP 502)"},
		{"numbers", &vocode.Error{Reason: vocode.ReasonDecode, Endpoint: vocode.EndpointNumbers, Page: 1, Status: 200, Err: errors.New("item 0 has no id")},
			"list numbers: decode on page 1 (HTTP 200): item 0 has no id"},
		{"usage", &vocode.Error{Reason: vocode.ReasonAuth, Endpoint: vocode.EndpointUsage, Status: 401, Detail: "Invalid API key"},
			"usage: auth (HTTP 401): Invalid API key"},
		{"agents", &vocode.Error{Reason: vocode.ReasonClientError, Endpoint: vocode.EndpointAgents, Status: 404},
			"list agents: client_error (HTTP 404)"},
		{"an endpoint of the future", &vocode.Error{Reason: vocode.ReasonClientError, Endpoint: "voices_list", Status: 404},
			"voices_list: client_error (HTTP 404)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q\nwant      %q", got, tt.want)
			}
		})
	}
}
