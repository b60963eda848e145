package vocode_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

const redacted = vocode.Redacted

func TestRedact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// Credentials, alone and in text.
		{"OpenAI key", "sk-proj-Ab3dEf_gh-9", redacted},
		{"key with underscore", "key sk_live_51Hx is wrong", "key " + redacted + " is wrong"},
		{"short key", "sk-1", redacted},
		{"key after punctuation", `{"key":"sk-test-17"}`, `{"key":"` + redacted + `"}`},
		{"key after a hyphen", "x-sk-abc", "x-" + redacted},
		{"Twilio SID", "AC0123456789abcdef0123456789abcdef", redacted},
		{"Twilio SID of hex letters only", "ACabcdefabcdefabcdefabcdefabcdefab", redacted},
		{"Twilio API key SID", "SKabcdefabcdefabcdefabcdefabcdefab", redacted},
		{"Twilio SID in text", "account ACffffffffffffffffffffffffffffffff: no", "account " + redacted + ": no"},
		{"Twilio auth token", "token 0123456789abcdef0123456789abcdef rejected", "token " + redacted + " rejected"},
		{"32 decimal digits", "12345678901234567890123456789012", redacted},
		{"40 hex letters", strings.Repeat("abcdef", 6) + "abcd", redacted},
		{"hex run inside letters", "zz" + strings.Repeat("fe", 16) + "zz", redacted},
		{"mixed run of 20", "abcdefghij0123456789", redacted},
		{"JWT after Bearer", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0", "Bearer " + redacted},
		{"JWT segments alone", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0", redacted + "." + redacted},
		{"Basic credential", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic " + redacted},
		{"short Basic credential", "Basic YTpi", "Basic " + redacted},
		{"Basic with / + and padding", "basic Zm9v/YmFy+YQ== was refused", "basic " + redacted + " was refused"},
		{"short Bearer token", "header Bearer x1y2z3, then", "header Bearer " + redacted + ", then"},
		{"Bearer token of token68 signs", "BEARER a-b.c_d~e+f/g=", "BEARER " + redacted},
		{"both schemes", "Basic YTpi, Bearer abc.def", "Basic " + redacted + ", Bearer " + redacted},
		{"a scheme after a plain word", "Bearer Bearer tok1", "Bearer Bearer " + redacted},
		{"base64 token", "Rmlyc3RTZWNyZXQxMjM0NTY3", redacted},
		{"several", "a=sk-x b=AC00000000000000000000000000000000 c", "a=" + redacted + " b=" + redacted + " c"},
		// Text that must stay readable.
		{"task-manager", "task-manager", "task-manager"},
		{"risk_free", "risk_free desk-lamp whisk-it", "risk_free desk-lamp whisk-it"},
		{"sk without a key", "sk- sk_ sk", "sk- sk_ sk"},
		{"SK- is not a key", "SK-1", "SK-1"},
		{"UUID", "7000001-0000-4000-8000-000000000001", "7000001-0000-4000-8000-000000000001"},
		{"UUID v4", "550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000"},
		{"mixed run of 19", "abcdefghi0123456789", "abcdefghi0123456789"},
		{"31 hex digits", "1234567890123456789012345678901", "1234567890123456789012345678901"},
		{"long word", "Supercalifragilisticexpialidocious", "Supercalifragilisticexpialidocious"},
		{"long number", "page 123456789012345678901", "page 123456789012345678901"},
		{"status text", "HTTP 503 Service Unavailable", "HTTP 503 Service Unavailable"},
		{"validation", "query.size: Input should be less than or equal to 100", "query.size: Input should be less than or equal to 100"},
		{"phone number", "+15550001234", "+15550001234"},
		{"transport error", `Get "http://127.0.0.1:41234/v1/account_connections/list?page=1&size=100": dial tcp 127.0.0.1:41234: connect: connection refused`,
			`Get "http://127.0.0.1:41234/v1/account_connections/list?page=1&size=100": dial tcp 127.0.0.1:41234: connect: connection refused`},
		{"connection type", "account_connection_twilio", "account_connection_twilio"},
		{"Basic plan", "Basic plan, Bearer token, BASIC AUTH", "Basic plan, Bearer token, BASIC AUTH"},
		{"scheme without a credential", "Bearer <x> basic: Basic", "Bearer <x> basic: Basic"},
		{"scheme inside a word", "subasic xbearer abc1", "subasic xbearer abc1"},
		{"redacted Bearer", "Bearer " + redacted, "Bearer " + redacted},
		{"marker", redacted, redacted},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vocode.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Redact judges by shape, so it misses secrets of other shapes and redacts
// text that only looks like one. These rows pin today's behaviour on both
// sides, so that a change shows up here and in the documents that describe
// it (redact.go, README's Security section). The guarantees that do not
// rest on shapes are tested apart: credentials are never decoded
// (TestDecodeNumbersPageKeepsNoCredentials, the Fuzz* decoders), and the
// configured key is replaced whatever its shape (TestKeyIsRedactedWhateverItsShape).
func TestRedactKnownLimits(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// Missed: left in clear.
		{"missed: a 16-character secret", "token abcdef0123456789 is bad", "token abcdef0123456789 is bad"},
		{"missed: a 19-character secret", "abcdefghi0123456789", "abcdefghi0123456789"},
		{"missed: base64 cut short by / and +", "key=Rmly/c3RTZWNyZXQx+MjM0NTY3", "key=Rmly/c3RTZWNyZXQx+MjM0NTY3"},
		{"missed in part: base64 with a long run", "key=Rmly/c3RTZWNy+ZXQxMjM0NTY3MTIzNDU2Nzg5", "key=Rmly/c3RTZWNy+" + redacted},
		{"missed: a password of letters and few digits", "password hunter2", "password hunter2"},
		{"missed: a Bearer token that is a plain word", "Bearer opensesame", "Bearer opensesame"},
		{"missed: a scheme after a tab", "Bearer\tabc123", "Bearer\tabc123"},
		// Over-redacted: not a secret, redacted anyway.
		{"over-redacted: a 24-hex-digit id", "id 507f1f77bcf86cd799439011", "id " + redacted},
		{"over-redacted: an api-<hex> host", "dial api-0123456789abcdef0123.example.com", "dial api-" + redacted + ".example.com"},
		{"over-redacted: a number after Basic", "Basic 2024 plan", "Basic " + redacted + " plan"},
		{"over-redacted: a long mixed word", "error in module Serializer2Deserializer", "error in module " + redacted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vocode.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want today's %q: if this is an improvement, update the row and the documents", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRedact checks, for any text: Redact is idempotent; what it returns
// holds nothing its rules would redact, by a checker that shares no code
// with it; and a credential of each shape, built from the fuzz input and
// put between arbitrary texts at word boundaries, is replaced whole while
// the texts around it fare as they would alone.
func FuzzRedact(f *testing.F) {
	f.Add("detail: token sk-abc is bad", []byte("k3y"), uint16(7), uint8(0))
	f.Add("ACabc-AC0123456789abcdef0123456789abcdef-x", []byte{0, 255, 17}, uint16(3), uint8(5))
	f.Add("task-manager 550e8400-e29b-41d4-a716-446655440000 risk_sk-x", []byte{}, uint16(0), uint8(9))
	f.Add("zz"+strings.Repeat("ab", 17)+"sk-foo", []byte("0123456789"), uint16(40), uint8(3))
	f.Add("bad \xff\xfe sk", []byte("\xff"), uint16(5), uint8(1))
	f.Add("Authorization: Basic dXNlcjpwYXNz, Bearer Bearer x1, Basic plan", []byte("tok"), uint16(15), uint8(0))
	f.Fuzz(func(t *testing.T, text string, seed []byte, at uint16, seps uint8) {
		out := vocode.Redact(text)
		if again := vocode.Redact(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", text, out, again)
		}
		if bad := redactable(out); bad != "" {
			t.Fatalf("Redact(%q) = %q still holds %s", text, out, bad)
		}

		cut := int(at) % (len(text) + 1)
		before, after := text[:cut], text[cut:]
		open, shut := separators[int(seps)%len(separators)], separators[int(seps/16)%len(separators)]
		// A Basic or Bearer credential runs on through '.', '/' and '=', and
		// one ending before the insertion takes what follows it: then the
		// texts around it do not fare as they would alone.
		authAround := schemeAtEnd.MatchString(before+open) ||
			(strings.ContainsAny(open+shut, "./=") && anyScheme.MatchString(text))
		for _, cred := range credentials(seed) {
			if authAround {
				break
			}
			in := before + open + cred + shut + after
			want := vocode.Redact(before) + open + vocode.Redacted + shut + vocode.Redact(after)
			if got := vocode.Redact(in); got != want {
				t.Fatalf("credential %q in %q:\ngot  %q\nwant %q", cred, in, got, want)
			}
		}
		for _, scheme := range []string{"Basic ", "bearer  ", "BEARER "} {
			if authAround || strings.ContainsAny(shut, "./=") {
				break // the credential would run on into what follows
			}
			in := before + open + scheme + authToken(seed) + shut + after
			want := vocode.Redact(before) + open + scheme + vocode.Redacted + shut + vocode.Redact(after)
			if got := vocode.Redact(in); got != want {
				t.Fatalf("credential %q in %q:\ngot  %q\nwant %q", scheme+authToken(seed), in, got, want)
			}
		}
	})
}

var (
	schemeAtEnd = regexp.MustCompile(`(?i)(basic|bearer) +$`)
	anyScheme   = regexp.MustCompile(`(?i)basic|bearer`)
)

// authToken returns a token68 credential built from seed, with at least a
// digit, a '/' and a '+', and maybe padding.
func authToken(seed []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/"
	b := []byte("7/+")
	for i, c := range seed {
		b = append(b, alphabet[(int(c)+i)%len(alphabet)])
	}
	return string(b) + strings.Repeat("=", len(seed)%3)
}

// separators are word boundaries that no rule reads as part of a
// credential: neither letters, digits, '-' nor '_'.
var separators = []string{" ", "\n", `"`, "'", "=", ":", ",", ";", "/", "(", ")", "[", "]", "{", "}", "<", ">", ".", "\t", "&", "?", "#", "@", "!"}

// credentials returns one credential of each shape Redact knows, built from
// seed.
func credentials(seed []byte) []string {
	const (
		alnum   = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		keyChar = alnum + "-_"
		hex     = "0123456789abcdef"
		hexAny  = hex + "ABCDEF"
	)
	pick := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			v := i
			if len(seed) > 0 {
				v = int(seed[i%len(seed)]) + i/len(seed)
			}
			b[i] = alphabet[v%len(alphabet)]
		}
		return string(b)
	}
	n := len(seed)
	mixed := []byte(pick(alnum, 20+n%40))
	mixed[0], mixed[len(mixed)-1] = 'q', '7' // both a letter and a digit
	return []string{
		"sk-" + pick(keyChar, 1+n%60),
		"sk_" + pick(keyChar, 1+n%7),
		"AC" + pick(hex, 32),
		"SK" + pick(hex, 32),
		pick(hexAny, 32+n%20),
		string(mixed),
	}
}

// redactable describes the first thing in s that Redact's rules cover, or
// returns "". It scans by hand, on purpose unlike Redact.
func redactable(s string) string {
	isAlnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	isWord := func(c byte) bool { return isAlnum(c) || c == '_' }
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		j := i
		letters, digits, hexRun, longest := false, false, 0, 0
		for ; j < len(s) && isAlnum(s[j]); j++ {
			if s[j] >= '0' && s[j] <= '9' {
				digits = true
			} else {
				letters = true
			}
			if isHex(s[j]) {
				hexRun++
				longest = max(longest, hexRun)
			} else {
				hexRun = 0
			}
		}
		switch {
		case j-i >= 20 && letters && digits:
			return "a mixed run " + s[i:j]
		case longest >= 32:
			return "32 hex digits in " + s[i:j]
		}
		i = j
	}
	for i := 0; i < len(s); i++ {
		if i > 0 && isWord(s[i-1]) {
			continue
		}
		rest := strings.ToLower(s[i:])
		var after string
		switch {
		case strings.HasPrefix(rest, "basic "):
			after = s[i+len("basic "):]
		case strings.HasPrefix(rest, "bearer "):
			after = s[i+len("bearer "):]
		default:
			continue
		}
		after = strings.TrimLeft(after, " ")
		n := 0
		for n < len(after) && (isAlnum(after[n]) || strings.IndexByte("-._~+/", after[n]) >= 0) {
			n++
		}
		token := after[:n]
		word := token != ""
		for k := 0; k < len(token); k++ {
			lower := token[k] >= 'a' && token[k] <= 'z'
			upper := token[k] >= 'A' && token[k] <= 'Z'
			if !lower && !upper || upper && k > 0 && strings.ToUpper(token) != token {
				word = false
			}
		}
		if token != "" && !word {
			return "a credential after a scheme at " + s[i:]
		}
	}
	for i := 0; i+3 < len(s); i++ {
		if s[i] == 's' && s[i+1] == 'k' && (s[i+2] == '-' || s[i+2] == '_') &&
			(isWord(s[i+3]) || s[i+3] == '-') && (i == 0 || !isWord(s[i-1])) {
			return "a key at " + s[i:]
		}
	}
	return ""
}
