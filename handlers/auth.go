package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"time"
)

// sessionCookie is the manager's session cookie.
const sessionCookie = "picpool_session"

// Auth guards the manager: one password, sessions recorded on the server
// behind a random id in an HttpOnly, SameSite=Lax cookie (see sessions),
// and a per-client limit on login attempts.
type Auth struct {
	password [sha256.Size]byte // the password's hash: compared in constant time
	sessions *sessions
	ttl      time.Duration
	limiter  *loginLimiter
	now      func() time.Time
}

// AuthOptions configures NewAuth; zero fields take their defaults.
type AuthOptions struct {
	SessionTTL  time.Duration    // how long a login lasts. Default: 12 h.
	MaxAttempts int              // failed logins per client per window before a lockout. Default: 5.
	Window      time.Duration    // the window of MaxAttempts. Default: 1 min.
	Now         func() time.Time // the clock. Default: time.Now.
}

// NewAuth returns a guard for the given password, which must not be empty.
func NewAuth(password string, opts AuthOptions) (*Auth, error) {
	if password == "" {
		return nil, fmt.Errorf("handlers: the manager needs a password")
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Window <= 0 {
		opts.Window = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Auth{
		password: sha256.Sum256([]byte(password)),
		sessions: newSessions(),
		ttl:      opts.SessionTTL,
		limiter:  &loginLimiter{max: opts.MaxAttempts, window: opts.Window, clients: map[string]*attempts{}},
		now:      opts.Now,
	}, nil
}

// PasswordOrNew returns password, or when it is "" a fresh one printed to
// out for the operator (picpool dev runs with no password set).
func PasswordOrNew(password string, out io.Writer) string {
	if password == "" {
		password = rand.Text()[:12]
		fmt.Fprintf(out, "  manager password: %s (set PICPOOL_MANAGER_PASSWORD to choose one)\n", password)
	}
	return password
}

// Login checks a password for the request's client and, when right, sets
// the session cookie. A wrong password is a *httpError of status 401; too
// many wrong ones in a window one of 429 saying when to try again.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request, password string) error {
	client := clientIP(r)
	now := a.now()
	if wait := a.limiter.blocked(client, now); wait > 0 {
		return &httpError{Status: http.StatusTooManyRequests,
			Message: fmt.Sprintf("Too many wrong passwords. Try again in %d s.", int(math.Ceil(wait.Seconds())))}
	}
	got := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(got[:], a.password[:]) != 1 {
		a.limiter.fail(client, now)
		return &httpError{Status: http.StatusUnauthorized, Message: "Wrong password."}
	}
	a.limiter.reset(client)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: a.sessions.start(now, now.Add(a.ttl)), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
		Expires: now.Add(a.ttl),
	})
	return nil
}

// Logout ends the request's session on the server, so that no copy of
// its cookie works any more, and clears the cookie.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

// Valid reports whether the request carries a live session.
func (a *Auth) Valid(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	return err == nil && a.sessions.valid(c.Value, a.now())
}

// Require lets only logged-in requests through: a page request is sent
// to the login page, anything else gets a 401.
func (a *Auth) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Valid(r) {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.Header.Get("HX-Request") == "true":
			// htmx would swap a followed redirect into the page: it follows
			// this header instead, whatever the method and status.
			w.Header().Set("HX-Redirect", "/login")
			w.WriteHeader(http.StatusUnauthorized)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		default:
			http.Error(w, "Log in first.", http.StatusUnauthorized)
		}
	})
}

// clientIP is the request's peer address. Behind a proxy every client
// shares the proxy's address and so its login limit: the safe side.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter counts failed logins per client in a fixed window.
type loginLimiter struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	clients map[string]*attempts
}

type attempts struct {
	failures int
	since    time.Time // start of the window
}

// blocked returns how long the client must wait, or 0.
func (l *loginLimiter) blocked(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.clients[client]
	if !ok || now.Sub(a.since) >= l.window {
		return 0
	}
	if a.failures >= l.max {
		return a.since.Add(l.window).Sub(now)
	}
	return 0
}

func (l *loginLimiter) fail(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.clients[client]
	if !ok || now.Sub(a.since) >= l.window {
		a = &attempts{since: now}
		l.clients[client] = a
	}
	a.failures++
	if len(l.clients) > 10000 { // forget finished windows so the map stays small
		for c, x := range l.clients {
			if now.Sub(x.since) >= l.window {
				delete(l.clients, c)
			}
		}
	}
}

func (l *loginLimiter) reset(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.clients, client)
}

// APIGuard protects the /api routes that change state (upload,
// delete_all, configure_cache). They are open when open is true (the
// server listens on loopback only, or --open-test-api was given);
// otherwise they need "Authorization: Bearer <token>".
func APIGuard(open bool, token string) func(http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if open || (token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) == 1) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="picpool test API"`)
			writeAPIError(w, http.StatusUnauthorized, "This server is not on loopback: send the manager API token as \"Authorization: Bearer <token>\" (or start it with --open-test-api).")
		})
	}
}
