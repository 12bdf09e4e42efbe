package node

import "context"

// Version returns the version of key's item without its value, over the
// data port (memcached's mg with the c flag; counted as a lookup, as Get
// is). ok is false when the node has no data port: then the caller asks
// with Get instead.
func (c *Client) Version(ctx context.Context, key string) (version uint64, hit, ok bool, err error) {
	d := c.dataClient(ctx)
	if d == nil {
		return 0, false, false, nil
	}
	version, hit, err = d.Version(ctx, key)
	if err != nil {
		return 0, false, true, c.unavailable("version", err)
	}
	return version, hit, true, nil
}
