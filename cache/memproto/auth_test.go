package memproto

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// authSteps is a connection's life before and after authenticating, one
// command at a time (memcached drops what is pipelined behind a refused
// command, so each step waits for its reply). The wants are memcached
// 1.6.18's replies with -Y holding "user:secret".
var authSteps = []struct{ in, want string }{
	{"get foo\r\n", "CLIENT_ERROR unauthenticated\r\n"},
	{"version\r\n", "CLIENT_ERROR unauthenticated\r\n"},
	{"ms a 11\r\n", "CLIENT_ERROR unauthenticated\r\n"},
	{"set a 0 0\r\n", "CLIENT_ERROR unauthenticated\r\n"},
	{"set a 0 0 11\r\nuser wrongp\r\n", "CLIENT_ERROR authentication failure\r\n"},
	{"set a 0 0 11\r\nusersecret \r\n", "CLIENT_ERROR bad authentication token format\r\n"},
	{"set a 0 0 11\r\nuser secretXY", "CLIENT_ERROR bad command line termination\r\n"},
	{"version\r\n", "CLIENT_ERROR unauthenticated\r\n"},
	{"set a 0 0 11 noreply\r\nuser secret\r\n", "STORED\r\n"},
	{"get a\r\n", "END\r\n"}, // the credentials were not stored
	{"set a 0 0 11\r\nuser secret\r\n", "STORED\r\n"},
	{"get a\r\n", "VALUE a 0 11\r\nuser secret\r\nEND\r\n"}, // now a set is a set
}

// runAuthSteps runs authSteps on one connection to addr.
func runAuthSteps(t *testing.T, addr string) {
	r := dialRaw(t, addr)
	for _, s := range authSteps {
		step(t, r, s.in, s.want)
	}
}

// step sends in and reads as many bytes as want has, which must match.
func step(t *testing.T, r *rawConn, in, want string) {
	t.Helper()
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(r.c, in); err != nil {
		t.Fatalf("send %q: %v", in, err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r.br, got); err != nil || string(got) != want {
		t.Fatalf("sent %q: got %q (%v), want %q", in, got, err, want)
	}
}

func TestAuth(t *testing.T) {
	addr, srv := startServer(t, Options{Token: "secret"})
	runAuthSteps(t, addr)
	st := srv.Stats()
	if st.AuthCmds != 2 || st.AuthErrors != 1 {
		t.Errorf("auth_cmds %d, auth_errors %d; want 2 and 1, as memcached counts them", st.AuthCmds, st.AuthErrors)
	}
	// Any user: the token is the password.
	r := dialRaw(t, addr)
	step(t, r, "set x 1 2 16\r\nanyone at secret\r\n", "CLIENT_ERROR authentication failure\r\n") // the second field is the password
	step(t, r, "set x 1 2 14\r\nsomeone secret\r\nversion\r\n", "STORED\r\nVERSION "+DefaultVersion+"\r\n")
}

// TestAuthMatchesMemcached runs the same steps against memcached -Y.
func TestAuthMatchesMemcached(t *testing.T) {
	runAuthSteps(t, startMemcached(t, "-Y", writeAuthFile(t, "user", "secret")))
}

// TestAuthCredentialsBounded checks an oversized credentials block is
// read past and refused, the connection still in step.
func TestAuthCredentialsBounded(t *testing.T) {
	addr, _ := startServer(t, Options{Token: "secret"})
	r := dialRaw(t, addr)
	big := strings.Repeat("x", maxAuthBytes+1)
	in := "set a 0 0 " + strconv.Itoa(len(big)) + "\r\n" + big + "\r\nset a 0 0 11\r\nuser secret\r\n"
	if got := r.exchange(in); got != "CLIENT_ERROR authentication failure\r\nSTORED\r\n" {
		t.Errorf("got %q", got)
	}
}
