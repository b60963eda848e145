package vocode

import (
	"strings"
	"unicode/utf8"
)

// decodeFast decodes the common shape of a page in one pass over its bytes,
// without reflection: encoding/json spends most of a scrape's decoding time
// scanning each page twice. It accepts only what it can decode exactly as
// encoding/json would; on anything else (escapes in names or ids, null where
// a value belongs, keys that differ only in case, duplicate keys, malformed
// input) it reports false and the caller falls back to encoding/json, whose
// results and error messages then stand. Credentials are skipped unread.
func decodeFast(b []byte) (*pageJSON, bool) {
	s := &scanner{b: b}
	if !s.consume('{') {
		return nil, false
	}
	raw := &pageJSON{}
	var seen uint8
	if !s.consume('}') {
		for {
			key, ok := s.plainString()
			if !ok || !s.consume(':') {
				return nil, false
			}
			var bit uint8
			switch string(key) {
			case "items":
				bit = 1
				items, ok := s.items()
				if !ok {
					return nil, false
				}
				raw.Items = &items
			case "page":
				bit = 2
				n, ok := s.integer()
				if !ok {
					return nil, false
				}
				raw.Page = &n
			case "has_more":
				bit = 4
				v, ok := s.boolean()
				if !ok {
					return nil, false
				}
				raw.HasMore = &v
			case "total":
				bit = 8
				n, ok := s.integer()
				if !ok {
					return nil, false
				}
				raw.Total = &n
			case "total_is_estimated":
				bit = 16
				v, ok := s.boolean()
				if !ok {
					return nil, false
				}
				raw.TotalIsEstimated = &v
			default:
				if foldsTo(key, "items", "page", "has_more", "total", "total_is_estimated") || !s.skipValue() {
					return nil, false
				}
			}
			if seen&bit != 0 {
				return nil, false // a repeated key: encoding/json's last-wins applies
			}
			seen |= bit
			if s.consume(',') {
				continue
			}
			if s.consume('}') {
				break
			}
			return nil, false
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, false
	}
	return raw, true
}

// maxFastDepth bounds nesting in skipped values; deeper input goes to
// encoding/json, which has its own limit.
const maxFastDepth = 512

type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	s.ws()
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// plainString returns the bytes of a string that has no escapes and is valid
// UTF-8, so that its bytes are exactly what encoding/json would decode.
func (s *scanner) plainString() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start, ascii := s.i+1, true
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v := s.b[start:j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// integer reads a JSON number without fraction or exponent that fits an int.
func (s *scanner) integer() (int, bool) {
	s.ws()
	j, neg := s.i, false
	if j < len(s.b) && s.b[j] == '-' {
		neg = true
		j++
	}
	start := j
	n := 0
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		n = n*10 + int(s.b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 15 || (digits > 1 && s.b[start] == '0') {
		return 0, false
	}
	if j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		return 0, false
	}
	s.i = j
	if neg {
		n = -n
	}
	return n, true
}

func (s *scanner) boolean() (bool, bool) {
	switch {
	case s.literal("true"):
		return true, true
	case s.literal("false"):
		return false, true
	}
	return false, false
}

func (s *scanner) items() ([]itemJSON, bool) {
	if !s.consume('[') {
		return nil, false
	}
	items := make([]itemJSON, 0, DefaultPageSize)
	if s.consume(']') {
		return items, true
	}
	for {
		it, ok := s.item()
		if !ok {
			return nil, false
		}
		items = append(items, it)
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return items, true
		}
		return nil, false
	}
}

func (s *scanner) item() (itemJSON, bool) {
	var it itemJSON
	if !s.consume('{') {
		return it, false
	}
	if s.consume('}') {
		return it, true
	}
	var seen uint8
	for {
		key, ok := s.plainString()
		if !ok || !s.consume(':') {
			return it, false
		}
		var bit uint8
		switch string(key) {
		case "id":
			bit = 1
			v, ok := s.plainString()
			if !ok {
				return it, false
			}
			it.ID = string(v)
		case "type":
			bit = 2
			v, ok := s.plainString()
			if !ok {
				return it, false
			}
			it.Type = internType(v)
		case "steering_pool":
			bit = 4
			n, ok := s.arrayLength()
			if !ok {
				return it, false
			}
			it.SteeringPool = poolCount(n)
		case "account_supports_any_caller_id":
			bit = 8
			if s.literal("null") {
				break
			}
			v, ok := s.boolean()
			if !ok {
				return it, false
			}
			it.AnyCallerID = &v
		default:
			if foldsTo(key, "id", "type", "steering_pool", "account_supports_any_caller_id") || !s.skipValue() {
				return it, false
			}
		}
		if seen&bit != 0 {
			return it, false
		}
		seen |= bit
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return it, true
		}
		return it, false
	}
}

// internType returns the common types without allocating a string for each.
func internType(v []byte) string {
	switch string(v) {
	case TypeTwilio:
		return TypeTwilio
	case TypeOpenAI:
		return TypeOpenAI
	}
	return string(v)
}

// arrayLength counts the elements of an array (null counts 0), validating
// each without keeping it.
func (s *scanner) arrayLength() (int, bool) {
	if s.literal("null") {
		return 0, true
	}
	if !s.consume('[') {
		return 0, false
	}
	if s.consume(']') {
		return 0, true
	}
	for n := 1; ; n++ {
		if !s.skipValue() {
			return 0, false
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return n, true
		}
		return 0, false
	}
}

// skipValue checks and passes over any JSON value.
func (s *scanner) skipValue() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{', c == '[':
		return s.skipContainer(c)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.skipNumber()
	}
	return false
}

func (s *scanner) skipContainer(open byte) bool {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxFastDepth {
		return false
	}
	s.i++
	closer := byte(']')
	if open == '{' {
		closer = '}'
	}
	if s.consume(closer) {
		return true
	}
	for {
		if open == '{' && (!s.skipString() || !s.consume(':')) {
			return false
		}
		if !s.skipValue() {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume(closer)
	}
}

func (s *scanner) skipString() bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			j++
			if j >= len(s.b) {
				return false
			}
			switch s.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.b) {
					return false
				}
				for k := 1; k <= 4; k++ {
					if !isHex(s.b[j+k]) {
						return false
					}
				}
				j += 4
			default:
				return false
			}
		}
	}
	return false
}

// skipNumber passes over a number as RFC 8259 writes it.
func (s *scanner) skipNumber() bool {
	b, j := s.b, s.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		return false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return false
		}
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return false
		}
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	}
	s.i = j
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// foldsTo reports whether key matches one of names only when case is
// ignored, which encoding/json would accept and decodeFast does not.
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(string(key), n) {
			return true
		}
	}
	return false
}
