package vocode

import (
	"regexp"
	"strings"
)

// Redacted is what Redact puts in place of credential-shaped text.
const Redacted = "<redacted>"

// credentialCandidate finds the text Redact judges: an OpenAI-style key
// (sk- or sk_ at a word boundary, with every key character after it), and
// each maximal run of 20 or more ASCII letters and digits. The key comes
// first in the alternation so that a key wins over a run starting at the
// same place. A run is matched whole, never in part: replacing a whole run
// leaves no letter or digit beside the marker, so nothing the marker
// leaves behind can join into a new credential, and Redact is idempotent.
var credentialCandidate = regexp.MustCompile(`\bsk[-_][A-Za-z0-9_-]+|[A-Za-z0-9]{20,}`)

// hex32 finds 32 hex digits in a row: a Twilio auth token, the hex part of
// a Twilio SID (AC...) or API key (SK...), or a hex-encoded secret.
var hex32 = regexp.MustCompile(`[0-9A-Fa-f]{32}`)

// authScheme finds an HTTP authentication scheme that carries a credential
// after it, as in an Authorization header a server echoes back; the scheme
// is case-insensitive there, and so it is here.
var authScheme = regexp.MustCompile(`(?i)\b(?:basic|bearer) +`)

// plainWord is a token after a scheme that Redact leaves, as prose ("Basic
// plan", "bearer token") rather than a credential: letters only, lower case
// after the first, or all upper case.
var plainWord = regexp.MustCompile(`^(?:[A-Za-z][a-z]*|[A-Z]+)$`)

// Redact replaces credential-shaped text in s with Redacted, for any text
// from the API or the network that may reach a log, an error or a metric.
// It replaces:
//   - the credential after Basic or Bearer (any case, then spaces): the
//     token68 characters and '=' padding that follow, unless they make a
//     plain word;
//   - sk- and sk_ keys at a word boundary ("task-manager" stays readable);
//   - Twilio SIDs and tokens, AC or SK and 32 hex digits, whole;
//   - any run of 32 or more hex digits, with the letters and digits around it;
//   - any maximal run of 20 or more ASCII letters and digits that mixes
//     letters and digits: random tokens do, words and numbers do not.
//
// UUIDs stay readable: each of their hyphen-separated groups is short.
//
// It judges by shape, so it is best effort: a secret of another shape
// passes (a 16-character token, base64 whose '/' and '+' cut it into short
// runs outside a Basic or Bearer header), and text of a credential's shape
// is redacted though it is none (a 24-hex-digit id, an api-<hex> host
// name). What is guaranteed does not rest on it: a connection's
// credentials are never decoded, and the client replaces its own API key
// wherever it appears, whatever its shape. redact_test.go holds both the
// shapes caught and these known limits.
func Redact(s string) string {
	return credentialCandidate.ReplaceAllStringFunc(redactAuth(s), func(m string) string {
		if m[0] == 's' && len(m) > 2 && (m[2] == '-' || m[2] == '_') {
			return Redacted // a key: runs never hold - or _
		}
		if mixesLettersAndDigits(m) || hex32.MatchString(m) {
			return Redacted
		}
		return m
	})
}

// mixesLettersAndDigits reports whether s, a run of ASCII letters and
// digits, holds both.
func mixesLettersAndDigits(s string) bool {
	var letter, digit bool
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			digit = true
		} else {
			letter = true
		}
	}
	return letter && digit
}

// redactAuth replaces the credential after each Basic or Bearer scheme. A
// scheme inside a credential already replaced is part of it.
func redactAuth(s string) string {
	var b strings.Builder
	done := 0
	for _, loc := range authScheme.FindAllStringIndex(s, -1) {
		if loc[0] < done {
			continue
		}
		end := loc[1] + token68Len(s[loc[1]:])
		if end == loc[1] || plainWord.MatchString(s[loc[1]:end]) {
			continue
		}
		b.WriteString(s[done:loc[1]])
		b.WriteString(Redacted)
		done = end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// token68Len is the length of the RFC 9110 token68 at the start of s: its
// characters, then any '=' padding.
func token68Len(s string) int {
	i := 0
	for i < len(s) && isToken68(s[i]) {
		i++
	}
	if i == 0 {
		return 0
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i
}

func isToken68(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}
