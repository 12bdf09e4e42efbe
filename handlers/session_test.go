package handlers

import (
	"net/http"
	"testing"
	"time"
)

// TestLogoutEndsSession: logging out ends the session on the server, so a
// copy of the cookie (kept by an attacker, or by another tab) no longer
// works for pages or forms; another session of the same manager lives on.
func TestLogoutEndsSession(t *testing.T) {
	m := newManager(t, setup{nodes: 2})
	other := m.login(t)
	if r := postForm(t, m.srv+"/logout", nil, "Cookie", m.cookie); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	if r := get(t, m.srv+"/", "Cookie", m.cookie); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Errorf("GET / with the logged-out cookie: %d to %q, want 303 to /login", r.status, r.header.Get("Location"))
	}
	if r := postForm(t, m.srv+"/pool/grow", nil, "Cookie", m.cookie); r.status != http.StatusUnauthorized {
		t.Errorf("POST /pool/grow with the logged-out cookie: %d, want 401", r.status)
	}
	m.checkPool(t, poolWant{2, lruConfig(16), nil})
	if r := get(t, m.srv+"/", "Cookie", other); r.status != http.StatusOK {
		t.Errorf("GET / with another session: %d, want 200", r.status)
	}
	// Logging out again, or without a session, is harmless.
	for _, cookie := range []string{m.cookie, ""} {
		if r := postForm(t, m.srv+"/logout", nil, "Cookie", cookie); r.status != http.StatusSeeOther {
			t.Errorf("logout with %q: %d, want 303", cookie, r.status)
		}
	}
}

func TestSessions(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := s.start(now, now.Add(time.Hour))
	b := s.start(now, now.Add(2*time.Hour))
	if a == b || len(a) != 26 {
		t.Fatalf("ids %q and %q: want two different 26-character ids", a, b)
	}
	for _, tt := range []struct {
		id   string
		at   time.Time
		want bool
	}{
		{a, now, true},
		{a, now.Add(time.Hour - time.Nanosecond), true},
		{a, now.Add(time.Hour), false},
		{b, now.Add(time.Hour), true},
		{a, now, false}, // an expired session is forgotten, even if the clock goes back
		{"", now, false},
		{"unknown", now, false},
	} {
		if got := s.valid(tt.id, tt.at); got != tt.want {
			t.Errorf("valid(%q, +%v) = %v, want %v", tt.id, tt.at.Sub(now), got, tt.want)
		}
	}
	s.end(b)
	if s.valid(b, now) {
		t.Error("an ended session is still valid")
	}
}

// TestSessionsBounded: at the bound, expired sessions go first, then the
// one that would expire first; the new one always gets in.
func TestSessionsBounded(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	first := s.start(now, now.Add(time.Minute))
	for i := 1; i < maxSessions; i++ {
		s.start(now, now.Add(time.Hour+time.Duration(i)*time.Second))
	}
	newest := s.start(now, now.Add(2*time.Hour))
	if got := s.count(); got != maxSessions {
		t.Errorf("count: %d, want %d", got, maxSessions)
	}
	if s.valid(first, now) || !s.valid(newest, now) {
		t.Error("want the session that expires first dropped and the new one kept")
	}
	// Expired ones are pruned all at once.
	later := now.Add(time.Hour + 10*time.Second)
	s.start(later, later.Add(time.Hour))
	if got, want := s.count(), maxSessions-10+1; got != want {
		t.Errorf("count after pruning: %d, want %d", got, want)
	}
}
