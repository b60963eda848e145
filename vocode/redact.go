package vocode

import "regexp"

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

// Redact replaces credential-shaped text in s with Redacted, for any text
// from the API or the network that may reach a log, an error or a metric.
// It replaces:
//   - sk- and sk_ keys at a word boundary ("task-manager" stays readable);
//   - Twilio SIDs and tokens, AC or SK and 32 hex digits, whole;
//   - any run of 32 or more hex digits, with the letters and digits around it;
//   - any maximal run of 20 or more ASCII letters and digits that mixes
//     letters and digits: random tokens do, words and numbers do not.
//
// UUIDs stay readable: each of their hyphen-separated groups is short.
func Redact(s string) string {
	return credentialCandidate.ReplaceAllStringFunc(s, func(m string) string {
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
