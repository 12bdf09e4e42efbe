package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// maxSessions bounds the live sessions one manager keeps. Only a right
// password creates one, so the bound is against a script that logs in in
// a loop, not against strangers.
const maxSessions = 10000

// sessions are the manager's logins, kept on the server: the cookie holds
// only a random id, so logging out ends the session for every copy of the
// cookie, not only for the browser that asked. The records live in this
// process, so a restart logs everyone out.
type sessions struct {
	mu   sync.Mutex
	live map[[sha256.Size]byte]time.Time // the id's hash → when it expires
}

func newSessions() *sessions {
	return &sessions{live: map[[sha256.Size]byte]time.Time{}}
}

// sessionKey is what a session is recorded under: the id's hash, so that
// neither the map's layout nor a lookup's timing depends on ids that work.
func sessionKey(id string) [sha256.Size]byte { return sha256.Sum256([]byte(id)) }

// start records a new session that lasts until expires and returns its id.
func (s *sessions) start(now, expires time.Time) string {
	id := rand.Text() // 26 base32 characters: 128 random bits
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.live) >= maxSessions {
		s.prune(now)
	}
	s.live[sessionKey(id)] = expires
	return id
}

// prune forgets expired sessions and, if that is not enough, the one that
// would expire first. Called with mu held.
func (s *sessions) prune(now time.Time) {
	var first [sha256.Size]byte
	var firstExp time.Time
	for k, exp := range s.live {
		if !now.Before(exp) {
			delete(s.live, k)
			continue
		}
		if firstExp.IsZero() || exp.Before(firstExp) {
			first, firstExp = k, exp
		}
	}
	if len(s.live) >= maxSessions {
		delete(s.live, first)
	}
}

// valid reports whether id is a live session at now; an expired one is
// forgotten.
func (s *sessions) valid(id string, now time.Time) bool {
	if id == "" {
		return false
	}
	k := sessionKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.live[k]
	if ok && !now.Before(exp) {
		delete(s.live, k)
		return false
	}
	return ok
}

// end forgets the session id; an unknown id is a no-op.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, sessionKey(id))
}

// count returns how many sessions are recorded (expired ones included
// until they are pruned or looked up).
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}
