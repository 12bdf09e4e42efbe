package memproto

import (
	"encoding/base64"
	"math"
)

// MaxKeyBytes is the longest key memcached takes.
const MaxKeyBytes = 250

// maxRelativeExptime is memcached's bound between a relative expiry time
// (seconds from now) and an absolute one (a Unix time): 30 days.
const maxRelativeExptime = 60 * 60 * 24 * 30

// splitFields appends the space-separated fields of line to dst and
// returns it. Runs of spaces separate as one, as memcached's tokenizer
// does; other bytes (tabs too) are part of a field.
func splitFields(dst [][]byte, line []byte) [][]byte {
	start := -1
	for i, c := range line {
		if c == ' ' {
			if start >= 0 {
				dst = append(dst, line[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, line[start:])
	}
	return dst
}

// trimEOL strips the line ending: "\r\n", or a bare "\n", which
// memcached accepts on command lines too.
func trimEOL(line []byte) []byte {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	return line[:n]
}

// validKey reports whether k can be a memcached key: 1 to MaxKeyBytes
// bytes, none of them a control character or a space. (memcached itself
// checks only the length; control characters in a key are refused here
// because no client can send them back in a text line reliably.)
func validKey(k []byte) bool {
	if len(k) == 0 || len(k) > MaxKeyBytes {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// decodeKey returns the key a command addresses: the field itself, or,
// with base64 (meta flag b), the bytes it encodes, which may be anything
// but longer than MaxKeyBytes.
func decodeKey(field []byte, b64 bool) (string, bool) {
	if !b64 {
		return string(field), validKey(field)
	}
	if len(field) == 0 || len(field) > base64.StdEncoding.EncodedLen(MaxKeyBytes) {
		return "", false
	}
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(field)))
	n, err := base64.StdEncoding.Decode(buf, field)
	if err != nil || n == 0 || n > MaxKeyBytes {
		return "", false
	}
	return string(buf[:n]), true
}

// parseUint parses a decimal unsigned number up to limit; no sign, no
// spaces, at least one digit.
func parseUint(b []byte, limit uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, n <= limit
}

// parseInt parses a decimal signed number that fits in 63 bits.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n, ok := parseUint(b, math.MaxInt64)
	if neg {
		return -int64(n), ok
	}
	return int64(n), ok
}

// parseFlags parses a client flags field: a 32-bit unsigned number.
func parseFlags(b []byte) (uint32, bool) {
	n, ok := parseUint(b, math.MaxUint32)
	return uint32(n), ok
}

// parseLength parses a data block length. memcached takes it as a
// signed 32-bit number, so larger ones are malformed.
func parseLength(b []byte) (int, bool) {
	n, ok := parseUint(b, math.MaxInt32)
	return int(n), ok
}

// expiry turns an expiry time from the wire into an absolute one in Unix
// seconds, memcached's way: 0 is never; up to 30 days, seconds from now;
// beyond, a Unix time; negative, or a Unix time already past, is expired
// at once (dead reports that).
func expiry(t, now int64) (abs int64, dead bool) {
	switch {
	case t == 0:
		return 0, false
	case t < 0:
		return 0, true
	case t <= maxRelativeExptime:
		return now + t, false
	case t <= now:
		return 0, true
	}
	return t, false
}

// expired reports whether an item with this expiry is gone at now.
func expired(exptime, now int64) bool { return exptime != 0 && exptime <= now }

// ttlLeft is what memcached reports as an item's remaining time to live
// (mg t): -1 when it never expires.
func ttlLeft(exptime, now int64) int64 {
	if exptime == 0 {
		return -1
	}
	return max(exptime-now, 0)
}

// parseCounter reads an item's data as memcached's incr does: optional
// leading spaces, decimal digits of a 64-bit unsigned number, then the
// end or a space (memcached pads shortened numbers with spaces).
func parseCounter(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j < len(b) && b[j] != ' ' && b[j] != '\r' && b[j] != '\n' {
		return 0, false
	}
	return parseUint(b[i:j], math.MaxUint64)
}
