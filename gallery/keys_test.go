package gallery

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The spellings of café: precomposed é (NFC), and e + combining acute (NFD).
const (
	cafeNFC = "caf\u00e9"
	cafeNFD = "cafe\u0301"
)

// dotsRefused is the refusal of "." and "..".
const dotsRefused = `The key cannot be "." or "..": a browser reads them as folders in the image's address. Please choose another key.`

// oddKeys are valid keys, however odd.
var oddKeys = []string{
	"sunrise 🌄", "👍🏽", "🇨🇦", "👩‍💻", strings.Repeat("k", 250), strings.Repeat("ü", 250), strings.Repeat("🌄", 250),
	"my photo", "100%", "a%20b", "%2F", "a?b#c&d=e", "a+b;c", `a\b`, "...", `<img src="x">`,
}

func TestParseKey(t *testing.T) {
	tests := []struct{ name, raw, want, msg string }{
		{"ASCII", "cat", "cat", ""},
		{"NFC", cafeNFC, cafeNFC, ""},
		{"NFD", cafeNFD, cafeNFC, ""},
		{"Hangul jamo", "\u1112\u1161\u11ab", "한", ""},
		{"marks reordered", "a\u0301\u0323", "\u1ea1\u0301", ""},                // dot below sorts first, then composes with a
		{"NFC decomposes a singleton", "\u212b", "\u00c5", ""},                  // ANGSTROM SIGN is Å
		{"NFC expands", "\u0344", "\u0308\u0301", ""},                           // COMBINING GREEK DIALYTIKA TONOS
		{"compatibility characters stay", "\ufb01 \u2460", "\ufb01 \u2460", ""}, // NFC, not NFKC: ﬁ and ① are kept
		{"NFD of 250 characters", strings.Repeat("e\u0301", 250), strings.Repeat("\u00e9", 250), ""},
		{"invalid UTF-8", "caf\xe9", "", "The key is not valid UTF-8 text."},
		{"NFD of 251 characters", strings.Repeat("e\u0301", 251), "", "The key is 251 characters long; the limit is 250."},
		{"dots", "..", "", dotsRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.raw)
			if tt.msg == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseKey(%+q) = %+q, %v; want %+q", tt.raw, got, err, tt.want)
				}
				return
			}
			if err == nil || err.Code != Invalid || err.Field != "key" || err.Message != tt.msg || got != "" {
				t.Fatalf("ParseKey(%+q) = %+q, %+v; want Invalid about key: %q", tt.raw, got, err, tt.msg)
			}
		})
	}
	if err := ValidateKey(cafeNFD); err == nil || err.Message != "The key is not in Unicode normalization form C (NFC)." {
		t.Errorf("ValidateKey(%+q) = %+v, want the NFC refusal: stored keys are NFC", cafeNFD, err)
	}
}

// FuzzParseKey: a key ParseKey takes is the NFC of what was sent, valid,
// and a fixed point; every spelling of it (NFD, NFC) parses to it.
func FuzzParseKey(f *testing.F) {
	for _, k := range []string{cafeNFC, cafeNFD, "\u0344", "\u212b", "a\u0301\u0323", "\u1112\u1161\u11ab", "..", "\xff"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		key, err := ParseKey(raw)
		if err != nil {
			if key != "" || err.Code != Invalid || err.Field != "key" || err.Message == "" {
				t.Fatalf("ParseKey(%+q) = %+q, %+v", raw, key, err)
			}
			return
		}
		if key != norm.NFC.String(raw) || ValidateKey(key) != nil {
			t.Fatalf("ParseKey(%+q) = %+q: not the valid NFC of what was sent", raw, key)
		}
		for _, spelling := range []string{key, norm.NFD.String(key)} {
			if again, err := ParseKey(spelling); err != nil || again != key {
				t.Fatalf("ParseKey(%+q) = %+q, %v; want %+q, the key it spells", spelling, again, err, key)
			}
		}
	})
}

func TestValidateKey(t *testing.T) {
	for _, key := range oddKeys {
		if err := ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range []string{"", "/", "a\x00", " a", strings.Repeat("x", 251), "\xff", ".", ".."} {
		err := ValidateKey(key)
		if err == nil || err.Code != Invalid || err.Field != "key" || err.Message == "" {
			t.Errorf("ValidateKey(%q) = %+v, want Invalid about the field key", key, err)
		}
	}
}

// FuzzValidateKey: a key ValidateKey takes is valid UTF-8 of 1 to 250
// characters without "/", control characters or edge spaces; a refusal
// is a 400 about the key with a message.
func FuzzValidateKey(f *testing.F) {
	for _, key := range oddKeys {
		f.Add(key)
	}
	for _, k := range []string{"", "/", "a\x00b", " a", "a ", "\xff", "\u202e", ".", ".."} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)
		if err != nil {
			if err.Code != Invalid || err.Field != "key" || err.Message == "" {
				t.Fatalf("ValidateKey(%q) = %+v", key, err)
			}
			return
		}
		n := len([]rune(key))
		if n < 1 || n > MaxKeyChars || strings.ContainsAny(key, "/\x00\n\r\t") || strings.TrimSpace(key) != key || !utf8.ValidString(key) || key == "." || key == ".." {
			t.Fatalf("ValidateKey(%q) accepted it", key)
		}
	})
}
