package cache

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A gallery key is stored on a node under a node key of three parts:
//
//	pp:G.F:body
//
//   - pp, two lower-case hex digits: the first byte of the key's MD5, which
//     is what every partitioner routes by. A node reads it back to list or
//     drop the items of a partition, so node keys route themselves.
//   - G.F, the namespace: the pool's generation (raised by delete_all) and
//     the node's fence (raised when the node missed an invalidation), in
//     decimal. Entries of an older namespace can never be read again: see
//     Fences.
//   - body: the key with every byte outside [A-Za-z0-9._~-] percent-escaped
//     (so a body never holds ':', '#', '@', '%'-less escapes, spaces or
//     control characters), or, when that is longer than maxBodyBytes, '#'
//     and the unpadded base64url SHA-256 of the key. '#' never appears
//     unescaped, so the two forms cannot meet: distinct gallery keys have
//     distinct bodies (barring a SHA-256 collision between two long keys).
//
// Derived entries of a key (renditions) append "@" and a name to the body;
// '@' is escaped inside bodies, so they cannot meet a gallery key either.

// maxBodyBytes bounds an escaped body, leaving room in a node key's 250
// bytes for the prefix (at most 2+1+20+1+20+1) and a derived suffix.
const maxBodyBytes = 180

// MaxNodeKeyBytes is the longest key a node accepts, as memcached's.
const MaxNodeKeyBytes = 250

// keyBody returns a gallery key's body (see above).
func keyBody(key string) string {
	n := 0
	for i := 0; i < len(key); i++ {
		if unreserved(key[i]) {
			n++
		} else {
			n += 3
		}
	}
	if n > maxBodyBytes {
		sum := sha256.Sum256([]byte(key))
		return "#" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
	var b strings.Builder
	b.Grow(n)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(key); i++ {
		if c := key[i]; unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// unreserved reports whether a byte stands for itself in a body: RFC 3986's
// unreserved set, which is also safe in memcached keys and URL paths.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// namespace is the part of a node key that fences make obsolete.
type namespace struct {
	gen, fence uint64
}

// itemKey is a gallery key prepared for the pool: the byte it routes by and
// its body. Computing it once per request keeps MD5 and escaping off the
// per-node paths.
type itemKey struct {
	hash byte
	body string
}

func newItemKey(key string) itemKey {
	return itemKey{hash: md5.Sum([]byte(key))[0], body: keyBody(key)}
}

// in returns the node key of k in namespace ns.
func (k itemKey) in(ns namespace) string {
	b := make([]byte, 0, 2+1+20+1+20+1+len(k.body))
	b = append(b, hexDigits[k.hash>>4], hexDigits[k.hash&15], ':')
	b = strconv.AppendUint(b, ns.gen, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, ns.fence, 10)
	b = append(b, ':')
	return string(append(b, k.body...))
}

const hexDigits = "0123456789abcdef"

// NodeKey returns the node key of a gallery key in generation gen on a
// node whose fence is fence. The pool computes node keys itself; this is
// for tests and tools that look at a node directly.
func NodeKey(key string, gen, fence uint64) string {
	return newItemKey(key).in(namespace{gen, fence})
}

// parseNodeKey splits a node key into its routing byte, namespace and body;
// ok is false for a key not made by the pool (a memcached client's own).
func parseNodeKey(nk string) (hash byte, ns namespace, body string, ok bool) {
	if len(nk) < 3 || nk[2] != ':' {
		return 0, ns, "", false
	}
	h, err := strconv.ParseUint(nk[:2], 16, 8)
	if err != nil {
		return 0, ns, "", false
	}
	rest := nk[3:]
	nsText, body, found := strings.Cut(rest, ":")
	if !found {
		return 0, ns, "", false
	}
	g, f, found := strings.Cut(nsText, ".")
	if !found {
		return 0, ns, "", false
	}
	if ns.gen, err = strconv.ParseUint(g, 10, 64); err != nil {
		return 0, ns, "", false
	}
	if ns.fence, err = strconv.ParseUint(f, 10, 64); err != nil {
		return 0, ns, "", false
	}
	return byte(h), ns, body, true
}

// withNamespace returns nk moved to namespace ns, or false if nk is not a
// pool's node key.
func withNamespace(nk string, ns namespace) (string, bool) {
	h, _, body, ok := parseNodeKey(nk)
	if !ok {
		return "", false
	}
	return itemKey{hash: h, body: body}.in(ns), true
}

// nodeKeyPartition returns the partition of a node key under pt, read from
// its routing byte; ok is false for a key not made by the pool.
func nodeKeyPartition(pt Partitioner, nk string) (int, bool) {
	h, _, _, ok := parseNodeKey(nk)
	if !ok {
		return 0, false
	}
	return hashPartition(pt, h), true
}

// hashPartition maps the first byte of a key's MD5 to a partition of pt:
// its top log2(Partitions) bits, which is what Partition computes from the
// key itself (a test checks they agree).
func hashPartition(pt Partitioner, h byte) int {
	return int(h >> (8 - bits.Len(uint(pt.Partitions()-1))))
}

// ValidNodeKey reports why a node refuses a key: empty, too long, not UTF-8,
// or holding a space or control character (memcached's rules). It returns ""
// for a good key.
func ValidNodeKey(key string) string {
	switch {
	case key == "":
		return "the key is empty"
	case len(key) > MaxNodeKeyBytes:
		return fmt.Sprintf("the key is %d bytes long; a node takes at most %d", len(key), MaxNodeKeyBytes)
	case !utf8.ValidString(key):
		return "the key is not valid UTF-8"
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c == 0x7f {
			return "the key holds a space or a control character"
		}
	}
	return ""
}
