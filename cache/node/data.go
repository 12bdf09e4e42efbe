package node

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// ServeData serves memcached's text and meta protocol (package memproto)
// over the node's store on ln until ctx is done or ln fails, then closes
// every connection it accepted. With DataAuthNone it refuses a listener
// that is not on a loopback address: anyone who reaches the port could
// read and write.
func (n *Node) ServeData(ctx context.Context, ln net.Listener) error {
	if n.opts.DataAuth == DataAuthNone && !isLoopback(ln.Addr().String()) {
		return fmt.Errorf("node: the data port on %s takes commands without the token: only on a loopback address", ln.Addr())
	}
	n.dataAddr.Store(ln.Addr().String())
	return n.data.Serve(ctx, ln)
}

// isLoopback reports whether a listen address names a loopback host
// (127.0.0.0/8, ::1 or localhost); ":11211" listens on every interface,
// so it is not.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// CheckDataAuth refuses DataAuthNone on a data address that is not a
// loopback one, before anything listens.
func CheckDataAuth(dataAddr, auth string) error {
	if auth == DataAuthNone && dataAddr != "" && !isLoopback(dataAddr) {
		return fmt.Errorf("--data-auth none serves the data port without the token: only with a loopback --data-addr (127.0.0.1:PORT), not %q", dataAddr)
	}
	return nil
}
