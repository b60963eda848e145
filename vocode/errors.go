package vocode

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Reason classifies why a walk failed. The values are the `reason` label of
// vocode_scrape_errors_total, so they are part of the exporter's interface.
type Reason string

// The reasons a walk can fail for.
const (
	ReasonAuth        Reason = "auth"
	ReasonRateLimited Reason = "rate_limited"
	ReasonServerError Reason = "server_error"
	ReasonClientError Reason = "client_error"
	ReasonTimeout     Reason = "timeout"
	ReasonTransport   Reason = "transport"
	ReasonDecode      Reason = "decode"
	ReasonTooLarge    Reason = "too_large"
	ReasonPagination  Reason = "pagination"
)

// Reasons lists every Reason, so that counters can be initialised to zero.
func Reasons() []Reason {
	return []Reason{
		ReasonAuth, ReasonRateLimited, ReasonServerError, ReasonClientError, ReasonTimeout,
		ReasonTransport, ReasonDecode, ReasonTooLarge, ReasonPagination,
	}
}

// Error is the one error type the client returns. It is classified once, where
// it is made, so callers never have to inspect status codes or strings.
// Its message never contains the API key, a credential or a raw body.
type Error struct {
	Reason Reason
	// Endpoint is the endpoint whose request failed, as the RequestObserver
	// names it: EndpointList, EndpointNumbers, EndpointUsage,
	// EndpointAgents or EndpointCalls. Empty reads as EndpointList, the one endpoint there was
	// before the field, so that an Error made without it still says what it
	// did.
	Endpoint string
	Page     int    // the list page being fetched, 0 when not page specific
	Status   int    // HTTP status, 0 when no response came
	Detail   string // a short, redacted description
	Err      error  // the underlying error, if any; its text is already safe
}

func (e *Error) Error() string {
	msg := operation(e.Endpoint) + ": " + string(e.Reason)
	if e.Page > 0 {
		msg += fmt.Sprintf(" on page %d", e.Page)
	}
	if e.Status > 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	// Every part is redacted where it is made; this last pass is for an
	// Error made elsewhere, or text a part gained on the way.
	return Redact(msg)
}

func (e *Error) Unwrap() error { return e.Err }

// operation says what the client was doing at endpoint, in the words that
// start an Error's message.
func operation(endpoint string) string {
	switch endpoint {
	case "", EndpointList:
		return "list account connections"
	case EndpointNumbers:
		return "list numbers"
	case EndpointUsage:
		return "usage"
	case EndpointCalls:
		return "list calls"
	case EndpointAgents:
		return "list agents"
	}
	return endpoint
}

// ReasonOf returns the classification of err. Errors that did not come from
// this package are classified by their kind; anything unknown counts as a
// transport failure.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return classifyTransport(err)
}

func classifyTransport(err error) Reason {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ReasonTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ReasonTimeout
	}
	return ReasonTransport
}
