// Package nodekey lays out the keys the pool stores gallery keys under on
// its nodes. A gallery key is stored on a node under a node key of three
// parts:
//
//	pp:G.F:body
//
// where:
//   - pp, two lower-case hex digits: the first byte of the key's MD5, which
//     is what every partitioner routes by (see partition.OfHash). A node
//     reads it back to list or drop the items of a partition, so node keys
//     route themselves.
//   - G.F, the namespace: the pool's generation (raised by delete_all) and
//     the node's fence (raised when the node missed an invalidation), in
//     decimal. Entries of an older namespace can never be read again: see
//     the pool's Fences.
//   - body: the key with every byte outside [A-Za-z0-9._~-] percent-escaped
//     (so a body never holds ':', '#', '@', '%'-less escapes, spaces or
//     control characters), or, when that is longer than maxBodyBytes, '#'
//     and the unpadded base64url SHA-256 of the key. '#' never appears
//     unescaped, so the two forms cannot meet: distinct gallery keys have
//     distinct bodies (barring a SHA-256 collision between two long keys).
//
// Derived entries of a key (renditions) append "@" and a name to the body;
// '@' is escaped inside bodies, so they cannot meet a gallery key either.
package nodekey

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBodyBytes bounds an escaped body, leaving room in a node key's 250
// bytes for the prefix (at most 2+1+20+1+20+1) and a derived suffix.
const maxBodyBytes = 180

// MaxBytes is the longest key a node accepts, as memcached's.
const MaxBytes = 250

// keyBody returns a gallery key's body (see the package comment).
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

// Namespace is the part of a node key that fences make obsolete: the
// pool's generation and the node's fence.
type Namespace struct {
	Gen, Fence uint64
}

// Key is a gallery key prepared for the pool: the byte it routes by and
// its body. Computing it once per request keeps MD5 and escaping off the
// per-node paths.
type Key struct {
	hash byte
	body string
}

// Of returns the node-key form of a gallery key.
func Of(key string) Key {
	return Key{hash: md5.Sum([]byte(key))[0], body: keyBody(key)}
}

// Hash is the first byte of the gallery key's MD5: what partitioners
// route by.
func (k Key) Hash() byte { return k.hash }

// In returns the node key of k in namespace ns.
func (k Key) In(ns Namespace) string {
	b := make([]byte, 0, 2+1+20+1+20+1+len(k.body))
	b = append(b, hexDigits[k.hash>>4], hexDigits[k.hash&15], ':')
	b = strconv.AppendUint(b, ns.Gen, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, ns.Fence, 10)
	b = append(b, ':')
	return string(append(b, k.body...))
}

const hexDigits = "0123456789abcdef"

// Parse splits a node key into its key (routing byte and body) and its
// namespace; ok is false for a key not made by the pool (a memcached
// client's own). k.In of another namespace moves the entry there.
func Parse(nk string) (k Key, ns Namespace, ok bool) {
	if len(nk) < 3 || nk[2] != ':' {
		return k, ns, false
	}
	h, err := strconv.ParseUint(nk[:2], 16, 8)
	if err != nil {
		return k, ns, false
	}
	rest := nk[3:]
	nsText, body, found := strings.Cut(rest, ":")
	if !found {
		return k, ns, false
	}
	g, f, found := strings.Cut(nsText, ".")
	if !found {
		return k, ns, false
	}
	if ns.Gen, err = strconv.ParseUint(g, 10, 64); err != nil {
		return k, ns, false
	}
	if ns.Fence, err = strconv.ParseUint(f, 10, 64); err != nil {
		return k, ns, false
	}
	return Key{hash: byte(h), body: body}, ns, true
}

// Valid reports why a node refuses a key: empty, too long, not UTF-8, or
// holding a space or control character (memcached's rules). It returns ""
// for a good key. Any key a client sends a node is checked, not only the
// node keys Of makes.
func Valid(key string) string {
	switch {
	case key == "":
		return "the key is empty"
	case len(key) > MaxBytes:
		return fmt.Sprintf("the key is %d bytes long; a node takes at most %d", len(key), MaxBytes)
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

// Derived returns the key of an entry derived from k's value (a
// rendition), named name: it routes with k (the same first byte, so the
// same partition and node, and a resize moves them together) and its body
// is k's, "@" and name. name must be short and use only bytes that stand
// for themselves in a body ([A-Za-z0-9._~-]).
func (k Key) Derived(name string) Key {
	return Key{hash: k.hash, body: k.body + "@" + name}
}
