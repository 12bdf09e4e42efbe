package handlers

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/webp"
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
		return fieldError(http.StatusBadRequest, "key", "Please give the image a key.")
	case key == "." || key == "..":
		// A browser resolves the dot segments of /image/. and /image/.. to
		// other paths, and it does so for %2e too (WHATWG URL): escaping
		// cannot save these two, so they are refused. Other runs of dots
		// ("...", ".a") are ordinary path segments.
		return fieldError(http.StatusBadRequest, "key", `The key cannot be "." or "..": a browser reads them as folders in the image's address. Please choose another key.`)
	case !utf8.ValidString(key):
		return fieldError(http.StatusBadRequest, "key", "The key is not valid UTF-8 text.")
	case !norm.NFC.IsNormalString(key):
		return fieldError(http.StatusBadRequest, "key", "The key is not in Unicode normalization form C (NFC).")
	case utf8.RuneCountInString(key) > MaxKeyChars:
		return fieldError(http.StatusBadRequest, "key", "The key is %d characters long; the limit is %d.", utf8.RuneCountInString(key), MaxKeyChars)
	case strings.ContainsRune(key, '/'):
		return fieldError(http.StatusBadRequest, "key", `The key cannot contain "/".`)
	case strings.TrimSpace(key) != key:
		return fieldError(http.StatusBadRequest, "key", "The key cannot start or end with a space.")
	}
	for _, r := range key {
		// The zero-width joiners are format characters that emoji sequences
		// (👩‍💻) and scripts such as Persian need; other invisible ones stay out.
		if r == '\u200c' || r == '\u200d' {
			continue
		}
		if r != ' ' && (unicode.IsControl(r) || !unicode.IsPrint(r)) {
			return fieldError(http.StatusBadRequest, "key", "The key contains a character that cannot be printed (%U).", r)
		}
	}
	return nil
}

// imageFormats are the formats the gallery takes: content type, the name
// for people, and the decoder of its header.
var imageFormats = []struct {
	contentType, name string
	decodeConfig      func(r *bytes.Reader) (image.Config, error)
}{
	{"image/png", "PNG", func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) }},
	{"image/jpeg", "JPEG", func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) }},
	{"image/gif", "GIF", func(r *bytes.Reader) (image.Config, error) { return gif.DecodeConfig(r) }},
	{"image/webp", "WebP", func(r *bytes.Reader) (image.Config, error) { return webp.DecodeConfig(r) }},
}

// SniffImage returns the content type of an image file judged by its
// content, not its name: it must sniff as PNG, JPEG, GIF or WebP and its
// header must decode. The error has the field "file".
func SniffImage(data []byte, maxBytes int64) (string, *Error) {
	if len(data) == 0 {
		return "", fieldError(http.StatusBadRequest, "file", "The file is empty.")
	}
	if int64(len(data)) > maxBytes {
		return "", fieldError(http.StatusRequestEntityTooLarge, "file", "The file is larger than %s, the limit.", humanBytes(maxBytes))
	}
	sniffed := http.DetectContentType(data)
	for _, f := range imageFormats {
		if sniffed != f.contentType {
			continue
		}
		cfg, err := f.decodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
			return "", fieldError(http.StatusUnsupportedMediaType, "file", "The file starts like a %s image but its header is damaged.", f.name)
		}
		return f.contentType, nil
	}
	return "", fieldError(http.StatusUnsupportedMediaType, "file", "The file is not a PNG, JPEG, GIF or WebP image (it looks like %s).", strings.SplitN(sniffed, ";", 2)[0])
}

// humanBytes writes a size for people: 10 MiB, 512 KiB, 300 bytes.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
