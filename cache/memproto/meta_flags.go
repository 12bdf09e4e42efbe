package memproto

// Meta commands take flags after the key (ms: after the data length):
// single letters, some with a token argument ("T30", "Oabc"). This file
// parses them into metaFlags, with memcached's error lines.

// metaFlags are one meta command's flags.
type metaFlags struct {
	seen  uint64 // bit per letter present: see bit
	order []byte // the letters in request order, for the reply's flags

	opaque  []byte // O: copied, since the line's memory is reused
	ttl     int64  // T: expiry time, as on the wire
	flags   uint32 // F: client flags
	compare uint64 // C: compare CAS
	version uint64 // E: the version (PicPool: see doc.go)
	mode    byte   // M: mode letter
	delta   uint64 // D: ma delta
	initial uint64 // J: ma initial value
	vivify  int64  // N: ma auto-create expiry time
}

// bit returns the bit of a flag letter in metaFlags.seen, or 0 for a byte
// that is not a letter.
func bit(c byte) uint64 {
	switch {
	case c >= 'a' && c <= 'z':
		return 1 << (c - 'a')
	case c >= 'A' && c <= 'Z':
		return 1 << (26 + c - 'A')
	}
	return 0
}

// has reports whether flag letter c was given.
func (m *metaFlags) has(c byte) bool { return m.seen&bit(c) != 0 }

// maxOpaque is memcached's bound on an opaque token.
const maxOpaque = 32

// metaFlagError is memcached's error line for a flag it cannot take.
type metaFlagError string

// Error lines of meta flag parsing, as memcached 1.6 sends them.
const (
	errInvalidFlag   metaFlagError = "CLIENT_ERROR invalid flag"
	errDuplicateFlag metaFlagError = "CLIENT_ERROR duplicate flag"
	errBadToken      metaFlagError = "CLIENT_ERROR bad token in command line format"
	errOpaqueLong    metaFlagError = "CLIENT_ERROR opaque token too long"
	errInvalidMode   metaFlagError = "CLIENT_ERROR invalid mode for ms M token"
)

// parseMetaFlags parses fields as flags, allowing the letters in allowed
// (P and L are taken by every command and ignored, as in memcached). It
// returns "" or the error line to send.
func parseMetaFlags(m *metaFlags, fields [][]byte, allowed string) metaFlagError {
	*m = metaFlags{order: m.order[:0], opaque: m.opaque[:0]}
	for _, f := range fields {
		c := f[0]
		b := bit(c)
		if c == 'P' || c == 'L' {
			continue
		}
		if b == 0 || !containsByte(allowed, c) {
			return errInvalidFlag
		}
		if m.seen&b != 0 {
			return errDuplicateFlag
		}
		m.seen |= b
		m.order = append(m.order, c)
		if err := m.token(c, f[1:]); err != "" {
			return err
		}
	}
	return ""
}

// token reads the argument of a flag that takes one.
func (m *metaFlags) token(c byte, arg []byte) metaFlagError {
	var ok bool
	switch c {
	case 'O':
		if len(arg) > maxOpaque {
			return errOpaqueLong
		}
		m.opaque = append(m.opaque[:0], arg...)
		return ""
	case 'T':
		m.ttl, ok = parseInt(arg)
	case 'N':
		m.vivify, ok = parseInt(arg)
	case 'F':
		m.flags, ok = parseFlags(arg)
	case 'C':
		m.compare, ok = parseUint(arg, 1<<64-1)
	case 'E':
		m.version, ok = parseUint(arg, 1<<64-1)
		ok = ok && m.version > 0
	case 'D':
		m.delta, ok = parseUint(arg, 1<<64-1)
	case 'J':
		m.initial, ok = parseUint(arg, 1<<64-1)
	case 'M':
		ok = len(arg) == 1
		if ok {
			m.mode = arg[0]
		}
	default:
		ok = len(arg) == 0
	}
	if !ok {
		return errBadToken
	}
	return ""
}

func containsByte(s string, c byte) bool {
	for i := range len(s) {
		if s[i] == c {
			return true
		}
	}
	return false
}

// metaKey returns a meta command's key, decoded when the b flag asks.
// It writes memcached's error line and returns false for a bad one.
func (c *conn) metaKey(field []byte, m *metaFlags) (string, bool) {
	key, ok := decodeKey(field, m.has('b'))
	if !ok {
		if m.has('b') {
			c.out.line("CLIENT_ERROR error decoding key")
		} else {
			c.out.line("CLIENT_ERROR bad command line format")
		}
	}
	return key, ok
}

// echo is what a reply's flags can report of the item.
type echo struct {
	ok    bool // there is an item to report on (a hit, a store)
	cas   uint64
	flags uint32
	size  int
	ttl   int64 // as ttlLeft reports it
}

// replyFlags appends the flags a reply returns, in request order: the
// opaque, the key (with b when it came in base64), and, when e.ok, the
// item's CAS (c), client flags (f), size (s) and time to live (t).
func (c *conn) replyFlags(m *metaFlags, key []byte, e echo) {
	for _, f := range m.order {
		switch {
		case f == 'O':
			c.out.str(" O")
			c.out.bytes(m.opaque)
		case f == 'k':
			c.out.str(" k")
			c.out.bytes(key)
			if m.has('b') {
				c.out.str(" b")
			}
		case !e.ok:
		case f == 'c':
			c.out.str(" c")
			c.out.uint(e.cas)
		case f == 'f':
			c.out.str(" f")
			c.out.uint(uint64(e.flags))
		case f == 's':
			c.out.str(" s")
			c.out.uint(uint64(e.size))
		case f == 't':
			c.out.str(" t")
			c.out.int(e.ttl)
		}
	}
}
