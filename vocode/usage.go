package vocode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The plans the API names, as Usage.Plan gives them.
const (
	PlanFree       = "free"
	PlanDeveloper  = "developer"
	PlanEnterprise = "enterprise"
	PlanUnlimited  = "unlimited"
)

// Usage is the account's use of Vocode this month, from GET /v1/usage.
type Usage struct {
	// Plan is plan_type without its "plan_" prefix: PlanFree, PlanDeveloper,
	// PlanEnterprise, PlanUnlimited, or a plan of the future as the API
	// names it, less control characters and cut to 128 bytes.
	Plan         string
	Minutes      int64 // minutes used this month
	LimitMinutes int64 // the month's limit, if HasLimit
	HasLimit     bool  // false: the account has no limit
}

// Usage fetches the account's usage, retrying 429, 5xx and transport
// errors as a list page is.
func (c *Client) Usage(ctx context.Context) (*Usage, error) {
	body, err := c.fetch(ctx, request{endpoint: EndpointUsage, path: usagePath})
	if err != nil {
		return nil, err
	}
	defer c.release(body)
	u, err := decodeUsage(body.Bytes())
	if err != nil {
		return nil, &Error{Reason: ReasonDecode, Endpoint: EndpointUsage, Status: http.StatusOK, Err: err}
	}
	return u, nil
}

// usageJSON mirrors Usage, less user_id, which the decoder skips. The
// pointers tell a missing field, or null, from zero.
type usageJSON struct {
	Plan    *string `json:"plan_type"`
	Minutes *int64  `json:"monthly_usage_minutes"`
	Limit   *int64  `json:"monthly_usage_limit_minutes"`
}

// DecodeUsage reads the answer of GET /v1/usage from r. Errors describe
// what is wrong with it without quoting it, so they are safe to log.
func DecodeUsage(r io.Reader) (*Usage, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading usage: %w", err)
	}
	return decodeUsage(b)
}

// decodeUsage decodes a whole usage report held in memory. As for pages,
// anything after the object but white space fails it.
func decodeUsage(b []byte) (*Usage, error) {
	var raw usageJSON
	if err := decodeDoc(b, &raw, "usage report"); err != nil {
		return nil, err
	}
	if raw.Plan == nil {
		return nil, errors.New("usage report has no plan_type")
	}
	if raw.Minutes == nil {
		return nil, errors.New("usage report has no monthly_usage_minutes")
	}
	u := &Usage{Plan: labelText(strings.TrimPrefix(stripControl(*raw.Plan), "plan_")), Minutes: *raw.Minutes}
	if raw.Limit != nil {
		u.LimitMinutes, u.HasLimit = *raw.Limit, true
	}
	return u, nil
}
