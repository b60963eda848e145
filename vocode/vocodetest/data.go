package vocodetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Dataset returns a deterministic list of twilio Twilio and openai OpenAI
// connections, interleaved the way a real list mixes types. Twilio
// connection i has a steering pool of i%4 numbers and supports any caller ID
// when i is even; every connection carries credentials.
func Dataset(twilio, openai int) []Connection {
	conns := make([]Connection, 0, twilio+openai)
	t, o := 0, 0
	for t < twilio || o < openai {
		if t < twilio && (o >= openai || t <= o) {
			conns = append(conns, TwilioConnection(t, t%4, t%2 == 0))
			t++
			continue
		}
		conns = append(conns, OpenAIConnection(o))
		o++
	}
	return conns
}

// TwilioConnection returns Twilio connection number i with a pool of size
// numbers.
func TwilioConnection(i, pool int, anyCallerID bool) Connection {
	numbers := make([]string, pool)
	for j := range numbers {
		numbers[j] = fmt.Sprintf("+1555%03d%04d", i%1000, j)
	}
	return Connection{
		ID:           ID("7", i),
		Type:         "account_connection_twilio",
		SteeringPool: numbers,
		AnyCallerID:  &anyCallerID,
		Credentials: map[string]string{
			"twilio_account_sid": fmt.Sprintf("AC%032d", i),
			"twilio_auth_token":  fmt.Sprintf("twilio-token-%d", i),
		},
	}
}

// OpenAIConnection returns OpenAI connection number i.
func OpenAIConnection(i int) Connection {
	return Connection{
		ID:          ID("0", i),
		Type:        "account_connection_openai",
		Credentials: map[string]string{"openai_api_key": fmt.Sprintf("sk-test-%d", i)},
	}
}

// ID returns a UUID-shaped id, distinct for each prefix and i.
func ID(prefix string, i int) string {
	return fmt.Sprintf("%s%07x-0000-4000-8000-%012x", prefix[:1], i, i)
}

// WithCredentials returns conns with every credential value set to secret,
// for tests that search the exporter's output for a canary.
func WithCredentials(conns []Connection, secret string) []Connection {
	out := make([]Connection, len(conns))
	for i, c := range conns {
		creds := make(map[string]string, len(c.Credentials))
		for k := range c.Credentials {
			creds[k] = secret
		}
		c.Credentials = creds
		out[i] = c
	}
	return out
}

// RedirectTo answers with a redirect to target's path on another host.
func RedirectTo(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.TrimSuffix(target, "/")+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}
}

// ResetMidBody starts a 200 answer, then drops the connection half way
// through the body.
func ResetMidBody() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"items":[{"id":"a","type":"account_connection_twilio"`)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
	}
}

// Huge answers 200 with a syntactically valid page of about n bytes, padded
// with white space and sent without Content-Length, so only a client that
// counts what it reads notices the size.
func Huge(n int64) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[`)
		pad := []byte(strings.Repeat(" ", 64<<10))
		for written := int64(0); written < n; written += int64(len(pad)) {
			if _, err := w.Write(pad); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `],"page":1,"size":100,"has_more":false}`)
	}
}

// Raw answers with status and body verbatim.
func Raw(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// RawItem is a Connection served as the given JSON verbatim.
func RawItem(v any) Connection {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return Connection{Raw: b}
}
