package node

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/picpool/picpool/cache/nodekey"
)

// The binary data path serves the item operations (get, set, delete) on a
// second port with fixed 16-byte headers, so that a hit costs one small
// read and one writev of header and value, with no parsing and no copy of
// the value in user space. The HTTP API stays for tools, tests, control
// and migration.
//
// Request:  u8 op | u8 flags | u16 key length | u32 value length | u64 version | key | value
// Response: u8 status | u8 0 | u16 0 | u32 value length | u64 version | value
//
// The one flag, binPeek on a get, asks for the value without counting the
// lookup in the node's statistics. All integers are big-endian. A
// connection's first request must be
// binAuth with the token as its value; requests on a connection are
// answered in order, so a client may pipeline them.

const binHeaderBytes = 16

// Binary operations.
const (
	binGet    byte = 1
	binSet    byte = 2
	binDelete byte = 3
	binAuth   byte = 4

	binPeek byte = 1 // flag of a get: do not count it (see Node.peek)
)

// Binary statuses.
const (
	binOK           byte = 0 // hit, stored, deleted, authenticated
	binMiss         byte = 1
	binStale        byte = 2 // a newer version is resident: the set was ignored
	binTooLarge     byte = 3 // the value exceeds the node's limit; unread, the connection closes
	binBadRequest   byte = 4 // the value carries the message; the connection closes
	binUnauthorized byte = 5 // the connection closes
)

// ServeBinary serves the binary data path on ln until ctx is done or ln
// fails, then closes every connection it accepted.
func (n *Node) ServeBinary(ctx context.Context, ln net.Listener) error {
	n.binaryAddr.Store(ln.Addr().String())
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			n.serveBinaryConn(c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		})
	}
}

// binConnServer is one connection's state on the server side.
type binConnServer struct {
	c   net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	key []byte // reused key buffer
	hdr [binHeaderBytes]byte
}

func (n *Node) serveBinaryConn(c net.Conn) {
	s := &binConnServer{c: c, br: bufio.NewReaderSize(c, 32<<10), bw: bufio.NewWriterSize(c, 32<<10)}
	authed := false
	for {
		if _, err := io.ReadFull(s.br, s.hdr[:]); err != nil {
			return
		}
		op := s.hdr[0]
		kl := int(binary.BigEndian.Uint16(s.hdr[2:]))
		vl := int64(binary.BigEndian.Uint32(s.hdr[4:]))
		version := binary.BigEndian.Uint64(s.hdr[8:])
		if cap(s.key) < kl {
			s.key = make([]byte, kl)
		}
		s.key = s.key[:kl]
		if _, err := io.ReadFull(s.br, s.key); err != nil {
			return
		}
		if !authed {
			if op != binAuth || vl > 4096 {
				s.reply(binUnauthorized, 0, []byte("authenticate first"))
				return
			}
			token := make([]byte, vl)
			if _, err := io.ReadFull(s.br, token); err != nil {
				return
			}
			if subtle.ConstantTimeCompare(token, []byte(n.opts.Token)) != 1 {
				s.reply(binUnauthorized, 0, []byte("wrong token"))
				return
			}
			authed = true
			if !s.reply(binOK, 0, nil) {
				return
			}
			continue
		}
		if op == binSet {
			if !n.binarySet(s, version, vl) {
				return
			}
			continue
		}
		if vl != 0 {
			s.reply(binBadRequest, 0, []byte("unexpected value"))
			return
		}
		key := string(s.key)
		if msg := nodekey.Valid(key); msg != "" {
			s.reply(binBadRequest, 0, []byte(msg))
			return
		}
		var ok bool
		switch op {
		case binGet:
			lookup := n.get
			if s.hdr[1]&binPeek != 0 {
				lookup = n.peek
			}
			if value, v, hit := lookup(key); hit {
				ok = s.reply(binOK, v, value)
			} else {
				ok = s.reply(binMiss, 0, nil)
			}
		case binDelete:
			n.delete(key, version)
			ok = s.reply(binOK, 0, nil)
		default:
			s.reply(binBadRequest, 0, []byte("unknown operation"))
			return
		}
		if !ok {
			return
		}
	}
}

// binarySet reads a set's value straight into the buffer the engine will
// keep, and applies it. It reports whether the connection may go on.
func (n *Node) binarySet(s *binConnServer, version uint64, vl int64) bool {
	key := string(s.key)
	if msg := nodekey.Valid(key); msg != "" {
		s.reply(binBadRequest, 0, []byte(msg))
		return false
	}
	if vl > n.itemLimit(key) {
		// Refused unread: the connection closes rather than read it.
		s.reply(binTooLarge, 0, []byte("value exceeds the node's limit"))
		return false
	}
	buf := make([]byte, versionBytes+vl)
	if _, err := io.ReadFull(s.br, buf[versionBytes:]); err != nil {
		return false
	}
	switch n.set(key, version, buf) {
	case setStored:
		return s.reply(binOK, version, nil)
	case setStale:
		return s.reply(binStale, 0, nil)
	default: // read already, so the connection can go on
		return s.reply(binTooLarge, 0, nil)
	}
}

// reply writes a response. Small ones are buffered and flushed when no
// further request is already waiting (pipelined requests share a write);
// a large value goes out in one writev together with its header.
func (s *binConnServer) reply(status byte, version uint64, value []byte) bool {
	var h [binHeaderBytes]byte
	h[0] = status
	binary.BigEndian.PutUint32(h[4:], uint32(len(value)))
	binary.BigEndian.PutUint64(h[8:], version)
	if len(value) > 16<<10 {
		if err := s.bw.Flush(); err != nil {
			return false
		}
		bufs := net.Buffers{h[:], value}
		_, err := bufs.WriteTo(s.c)
		return err == nil
	}
	s.bw.Write(h[:])
	s.bw.Write(value)
	if s.br.Buffered() == 0 {
		return s.bw.Flush() == nil
	}
	return true
}
