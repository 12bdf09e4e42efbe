package gallery

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxKeyChars is the longest key, in characters.
const MaxKeyChars = 250

// ParseKey returns a key as a client sent it in the spelling the gallery
// stores, or an error with the field "key": the key in Unicode NFC (see
// NormalizeKey), checked by ValidateKey. Every key that comes in goes
// through it once.
func ParseKey(raw string) (string, *Error) {
	key := NormalizeKey(raw)
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return key, nil
}

// NormalizeKey returns s in Unicode NFC, the one spelling of a key: "café"
// typed with a precomposed "é" and typed with "e" and a combining accent
// look the same, so they are the same key. Key prefixes are normalized
// the same way. Bytes that are not UTF-8 are left as they are.
func NormalizeKey(s string) string { return norm.NFC.String(s) }

// ValidateKey checks a gallery key as stored: 1 to 250 characters of
// printable UTF-8 in NFC, without control characters or "/", not starting
// or ending with a space, and not "." or "..". It returns nil or an error
// with the field "key".
func ValidateKey(key string) *Error {
	switch {
	case key == "":
		return FieldErrorf(Invalid, "key", "Please give the image a key.")
	case key == "." || key == "..":
		// A browser resolves the dot segments of /image/. and /image/.. to
		// other paths, and it does so for %2e too (WHATWG URL): escaping
		// cannot save these two, so they are refused. Other runs of dots
		// ("...", ".a") are ordinary path segments.
		return FieldErrorf(Invalid, "key", `The key cannot be "." or "..": a browser reads them as folders in the image's address. Please choose another key.`)
	case !utf8.ValidString(key):
		return FieldErrorf(Invalid, "key", "The key is not valid UTF-8 text.")
	case !norm.NFC.IsNormalString(key):
		return FieldErrorf(Invalid, "key", "The key is not in Unicode normalization form C (NFC).")
	case utf8.RuneCountInString(key) > MaxKeyChars:
		return FieldErrorf(Invalid, "key", "The key is %d characters long; the limit is %d.", utf8.RuneCountInString(key), MaxKeyChars)
	case strings.ContainsRune(key, '/'):
		return FieldErrorf(Invalid, "key", `The key cannot contain "/".`)
	case strings.TrimSpace(key) != key:
		return FieldErrorf(Invalid, "key", "The key cannot start or end with a space.")
	}
	for _, r := range key {
		// The zero-width joiners are format characters that emoji sequences
		// (👩‍💻) and scripts such as Persian need; other invisible ones stay out.
		if r == '\u200c' || r == '\u200d' {
			continue
		}
		if r != ' ' && (unicode.IsControl(r) || !unicode.IsPrint(r)) {
			return FieldErrorf(Invalid, "key", "The key contains a character that cannot be printed (%U).", r)
		}
	}
	return nil
}
