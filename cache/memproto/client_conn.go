package memproto

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// clientConn is one client connection: a request is built in req and
// written with its value in one writev; replies are read through br.
type clientConn struct {
	nc     net.Conn
	br     *bufio.Reader
	req    []byte
	iov    [3][]byte
	wb     net.Buffers
	broken bool // a cancelled request spent its deadline
	// The current request's deadline, the context's (zero: none), and
	// what extend needs of the client's options.
	deadline, limit time.Time
	timeout         time.Duration
	rate            int64
}

// extend gives the request the time to move n value bytes at the
// client's MinRate, from now (see ClientOptions.MinRate).
func (cc *clientConn) extend(n int) {
	if cc.rate <= 0 || n == 0 {
		return
	}
	d := time.Now().Add(cc.timeout + time.Duration(int64(n)*int64(time.Second)/cc.rate))
	if !cc.limit.IsZero() && cc.limit.Before(d) {
		d = cc.limit
	}
	if d.After(cc.deadline) {
		cc.deadline = d
		cc.nc.SetDeadline(d)
	}
}

// dialClientConn connects and, with a token, authenticates.
func dialClientConn(ctx context.Context, addr string, deadline time.Time, opts ClientOptions) (*clientConn, error) {
	d := net.Dialer{Deadline: deadline}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cc := &clientConn{nc: nc, br: bufio.NewReaderSize(nc, readBufferBytes)}
	if opts.Token == "" {
		return cc, nil
	}
	nc.SetDeadline(deadline)
	creds := opts.User + " " + opts.Token
	cc.req = fmt.Appendf(cc.req[:0], "set auth 0 0 %d\r\n", len(creds))
	err = cc.send([]byte(creds))
	var line []byte
	if err == nil {
		line, err = cc.readLine()
	}
	var reply *ReplyError
	switch {
	case errors.As(err, &reply) && reply.Line == "CLIENT_ERROR authentication failure":
		err = ErrAuth
	case err == nil && string(line) != "STORED":
		err = fmt.Errorf("%w: %q to authentication", ErrProtocol, line)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return cc, nil
}

// send writes the request in req and, unless value is nil, value and its
// "\r\n": small ones copied behind the request, large ones in one writev.
func (cc *clientConn) send(value []byte) error {
	if value != nil && len(value) <= copyMax {
		cc.req = append(append(cc.req, value...), "\r\n"...)
		value = nil
	}
	if value == nil {
		_, err := cc.nc.Write(cc.req)
		return err
	}
	cc.iov = [3][]byte{cc.req, value, []byte("\r\n")}
	cc.wb = cc.iov[:]
	_, err := cc.wb.WriteTo(cc.nc)
	cc.iov = [3][]byte{} // let the value go
	return err
}

// readLine returns the next reply line without its ending, valid until
// the next read; an error line comes back as a *ReplyError.
func (cc *clientConn) readLine() ([]byte, error) {
	line, err := cc.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	line = trimEOL(line)
	if bytes.HasPrefix(line, []byte("ERROR")) || bytes.HasPrefix(line, []byte("CLIENT_ERROR")) || bytes.HasPrefix(line, []byte("SERVER_ERROR")) {
		return nil, &ReplyError{Line: string(line)}
	}
	return line, nil
}

// readCode reads a meta reply line and returns its code (HD, NS, NF…).
func (cc *clientConn) readCode() (string, error) {
	line, err := cc.readLine()
	if err != nil {
		return "", err
	}
	code, _, _ := bytes.Cut(line, []byte(" "))
	switch string(code) {
	case "HD":
		return "HD", nil
	case "NS":
		return "NS", nil
	case "NF":
		return "NF", nil
	case "EX":
		return "EX", nil
	}
	return "", fmt.Errorf("%w: %q", ErrProtocol, line)
}

// readGet reads the reply to "mg <key> v c…": VA with the value, or EN.
func (cc *clientConn) readGet(buf []byte) (value []byte, cas uint64, hit bool, err error) {
	line, err := cc.readLine()
	if err != nil {
		return nil, 0, false, err
	}
	if string(line) == "EN" {
		return nil, 0, false, nil
	}
	fields := bytes.Fields(line)
	if len(fields) < 2 || string(fields[0]) != "VA" {
		return nil, 0, false, fmt.Errorf("%w: %q to a get", ErrProtocol, line)
	}
	n, ok := parseLength(fields[1])
	for _, f := range fields[2:] {
		if f[0] == 'c' {
			cas, ok = parseUint(f[1:], 1<<64-1)
		}
		if !ok {
			break
		}
	}
	if !ok {
		return nil, 0, false, fmt.Errorf("%w: %q to a get", ErrProtocol, line)
	}
	cc.extend(n)
	if cap(buf) >= n {
		value = buf[:n]
	} else {
		value = make([]byte, n)
	}
	if _, err := io.ReadFull(cc.br, value); err != nil {
		return nil, 0, false, err
	}
	var end [2]byte
	if _, err := io.ReadFull(cc.br, end[:]); err != nil {
		return nil, 0, false, err
	}
	if end != [2]byte{'\r', '\n'} {
		return nil, 0, false, fmt.Errorf("%w: a value not ended by \\r\\n", ErrProtocol)
	}
	return value, cas, true, nil
}

// appendUintText appends n in decimal.
func appendUintText(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }
