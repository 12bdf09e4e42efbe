package memproto

import (
	"crypto/subtle"
	"io"
)

// Authentication follows memcached's text-protocol convention (memcached
// -Y authfile, checked against memcached 1.6.18):
//
//   - Until a connection authenticates, every command but "set" is
//     answered "CLIENT_ERROR unauthenticated"; the connection stays open
//     and the client may authenticate afterwards, as memcached does.
//   - "set <any key> <any flags> <any exptime> <bytes> [noreply]" with the
//     data "<user> <password>" authenticates: "STORED" (noreply is
//     ignored: the reply always comes). Key, flags, exptime and the user
//     name are not looked at: the password is the server's token.
//   - A wrong password gets "CLIENT_ERROR authentication failure", data
//     of fewer than two fields "CLIENT_ERROR bad authentication token
//     format", and data not ending in "\r\n" "CLIENT_ERROR bad command
//     line termination"; the connection stays unauthenticated.
//
// The stats count them as memcached does: auth_cmds for every password
// checked, auth_errors for the wrong ones.

// maxAuthBytes bounds the credentials' data block; a larger one is read
// and dropped, and fails.
const maxAuthBytes = 4 << 10

// authenticate serves one line of a connection that has not yet
// authenticated.
func (c *conn) authenticate() {
	f := c.fields
	var n int
	ok := len(f) >= 5 && string(f[0]) == "set"
	if ok {
		n, ok = parseLength(f[4])
	}
	if !ok {
		c.out.line("CLIENT_ERROR unauthenticated")
		return
	}
	if n > maxAuthBytes {
		c.s.stats.authCmds.Add(1)
		c.s.stats.authErrors.Add(1)
		c.out.line("CLIENT_ERROR authentication failure")
		c.skip(n + 2)
		return
	}
	data := make([]byte, n+2)
	if _, c.err = io.ReadFull(c.br, data); c.err != nil {
		return
	}
	if string(data[n:]) != "\r\n" {
		c.out.line("CLIENT_ERROR bad command line termination")
		return
	}
	creds := splitFields(nil, data[:n])
	if len(creds) < 2 {
		c.out.line("CLIENT_ERROR bad authentication token format")
		return
	}
	c.s.stats.authCmds.Add(1)
	if subtle.ConstantTimeCompare(creds[1], []byte(c.s.opts.Token)) != 1 {
		c.s.stats.authErrors.Add(1)
		c.out.line("CLIENT_ERROR authentication failure")
		return
	}
	c.authed = true
	c.out.line("STORED")
}
