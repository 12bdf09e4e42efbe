package memproto

import (
	"io"
	"net"
	"strconv"
)

// output gathers a connection's replies until they are flushed in one
// write: response lines are appended to text, and large values are not
// copied but added as their own segment, so that a pipeline of GETs goes
// out in one writev of lines and values. The values' references are held
// until the write is done.
type output struct {
	text []byte
	mark int         // text[mark:] is not yet in segs
	segs net.Buffers // what goes out, in order
	held []Value     // released once segs are written
	size int         // bytes in segs and text[mark:]
}

// copyMax is the largest value copied into text rather than sent as its
// own segment: below it, a copy is cheaper than an iovec.
const copyMax = 2 << 10

// flushAt is the pending size past which a pipeline's replies are
// written before the next request is read, so a connection never holds
// more than about this much besides the values it references.
const flushAt = 1 << 20

// maxSegs keeps a writev under the kernel's iovec limit (1024).
const maxSegs = 512

// keepText is the text buffer kept between flushes; a larger one (a big
// stats dump) is let go.
const keepText = 64 << 10

func (o *output) str(s string) {
	o.text = append(o.text, s...)
	o.size += len(s)
}

func (o *output) bytes(b []byte) {
	o.text = append(o.text, b...)
	o.size += len(b)
}

func (o *output) byte(c byte) {
	o.text = append(o.text, c)
	o.size++
}

func (o *output) uint(n uint64) {
	before := len(o.text)
	o.text = strconv.AppendUint(o.text, n, 10)
	o.size += len(o.text) - before
}

func (o *output) int(n int64) {
	before := len(o.text)
	o.text = strconv.AppendInt(o.text, n, 10)
	o.size += len(o.text) - before
}

// crlf ends a line.
func (o *output) crlf() { o.str("\r\n") }

// line writes a whole response line.
func (o *output) line(s string) {
	o.str(s)
	o.crlf()
}

// value adds an item's data. The output takes over v's reference.
func (o *output) value(v Value) {
	if len(v.B) <= copyMax {
		o.bytes(v.B)
		v.Release()
		return
	}
	o.cut()
	o.segs = append(o.segs, v.B)
	o.held = append(o.held, v)
	o.size += len(v.B)
}

// cut closes the text written since the last cut into a segment. Its cap
// ends at its length, so later appends to text never write into it.
func (o *output) cut() {
	if len(o.text) > o.mark {
		o.segs = append(o.segs, o.text[o.mark:len(o.text):len(o.text)])
		o.mark = len(o.text)
	}
}

// full reports whether the replies so far should go out before more
// requests are served.
func (o *output) full() bool { return o.size >= flushAt || len(o.segs) >= maxSegs }

// pending reports whether anything waits to be written.
func (o *output) pending() bool { return o.size > 0 }

// flush writes everything pending to w, then releases the values.
func (o *output) flush(w io.Writer) (int64, error) {
	o.cut()
	var n int64
	var err error
	switch len(o.segs) {
	case 0:
	case 1:
		var m int
		m, err = w.Write(o.segs[0])
		n = int64(m)
	default:
		bufs := o.segs // WriteTo consumes its receiver
		n, err = bufs.WriteTo(w)
	}
	o.reset()
	return n, err
}

// reset drops everything pending, releasing the values.
func (o *output) reset() {
	for _, v := range o.held {
		v.Release()
	}
	clear(o.held)
	clear(o.segs) // the backing array would keep the values alive
	o.held, o.segs = o.held[:0], o.segs[:0]
	if cap(o.text) > keepText {
		o.text = nil
	}
	o.text, o.mark, o.size = o.text[:0], 0, 0
}
