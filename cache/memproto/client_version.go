package memproto

import (
	"bytes"
	"context"
	"fmt"
)

// Version returns the version (CAS) of key's item without its value
// (mg c), or hit false on a miss. It counts as a lookup, as Get does: it
// is for a client that keeps values itself and asks whether the one it
// holds is still the server's.
func (c *Client) Version(ctx context.Context, key string) (version uint64, hit bool, err error) {
	err = c.do(ctx, "version", key, func(cc *clientConn, k wire) error {
		cc.req = append(k.flags(k.start(cc.req[:0], "mg")), " c\r\n"...)
		if err := cc.send(nil); err != nil {
			return err
		}
		line, err := cc.readLine()
		if err != nil {
			return err
		}
		if string(line) == "EN" {
			return nil
		}
		fields := bytes.Fields(line)
		if len(fields) == 2 && string(fields[0]) == "HD" && len(fields[1]) > 1 && fields[1][0] == 'c' {
			version, hit = parseUint(fields[1][1:], 1<<64-1)
		}
		if !hit {
			return fmt.Errorf("%w: %q to mg c", ErrProtocol, line)
		}
		return nil
	})
	return version, hit, err
}
