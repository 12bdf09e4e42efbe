package sqlconn

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"mysql://root@127.0.0.1:3306/test", "mysql://root@127.0.0.1:3306/test"},
		{"mysql://root:p%40ss@h/db", "mysql://root:xxxxx@h/db"},
		{"sqlite:data/picpool.db", "sqlite:data/picpool.db"},
		{"postgres://u:bad%zzpass@h/db", "postgres://xxxxx@h/db"}, // does not parse
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	base := errors.New("auth failed for s3cret-pw at host")
	c := &Conn{secret: "s3cret-pw"}
	got := c.Scrub(base)
	if strings.Contains(got.Error(), "s3cret-pw") || !errors.Is(got, base) {
		t.Errorf("Scrub = %q (wraps original: %v), want the password gone and the chain kept", got, errors.Is(got, base))
	}
	if got := (&Conn{}).Scrub(base); got != base {
		t.Errorf("Scrub without a password changed the error: %v", got)
	}
}

func TestOpenMySQLAddress(t *testing.T) {
	c, err := Open("mysql://app:pw@db.internal/gallery?tls=false&readTimeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.DB.Close()
	if c.Kind != MySQL || c.Redacted != "mysql://app:xxxxx@db.internal/gallery?tls=false&readTimeout=5s" || c.secret != "pw" {
		t.Errorf("Open = kind %q, redacted %q, secret %q", c.Kind, c.Redacted, c.secret)
	}
	if _, err := Open("mysql://app:pw@db.internal/gallery?nosuchoption=%zz"); err == nil || strings.Contains(err.Error(), ":pw@") {
		t.Errorf("Open with a bad query: err = %v, want an error without the password", err)
	}
}

// FuzzRedact checks that no password survives redaction, whatever the
// address looks like.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"postgres://u:pw@h/db", "mysql://a:b@c/d?x=y", "sqlite:x.db", "x://:@/", "p://u:%41@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			return
		}
		pw, ok := u.User.Password()
		if !ok || len(pw) < 4 || strings.Contains("xxxxx", pw) {
			return // too short to tell a leak from other text
		}
		if got := Redact(raw); strings.Contains(got, pw) && !strings.Contains(strings.Replace(raw, ":"+pw+"@", "", 1), pw) {
			t.Errorf("Redact(%q) = %q still holds the password %q", raw, got, pw)
		}
	})
}
