package node

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The entry stream carries items between nodes during a resize: the body
// of GET /v1/partitions/{p} and of POST /v1/items. Each entry is
//
//	u16 flags+key length | u64 version | u32 value length | key | value
//
// big-endian, one after another until the end of the body. The top bit of
// the first field marks a tombstone (a recent versioned delete, no value),
// which travels with its partition so that the new owner refuses the same
// stale sets the old one would.

const (
	entryHeaderBytes = 2 + 8 + 4
	entryTombstone   = 0x8000
)

// Entry is one item, or one tombstone, in an entry stream.
type Entry struct {
	Key       string
	Version   uint64
	Value     []byte
	Tombstone bool // a versioned delete: sets below Version are stale
}

// errEntryTooLarge is returned by readEntry for a value over the limit.
var errEntryTooLarge = errors.New("cache: entry value over the size limit")

// WriteEntry appends one entry to w: the pool writes the streams it
// imports into a partition's new owner this way (see Client.Import).
func WriteEntry(w *bufio.Writer, e Entry) error {
	if len(e.Key) >= entryTombstone || int64(len(e.Value)) > 0xFFFFFFFF || (e.Tombstone && len(e.Value) > 0) {
		return fmt.Errorf("cache: entry %q cannot be encoded", e.Key)
	}
	var h [entryHeaderBytes]byte
	kl := uint16(len(e.Key))
	if e.Tombstone {
		kl |= entryTombstone
	}
	binary.BigEndian.PutUint16(h[0:], kl)
	binary.BigEndian.PutUint64(h[2:], e.Version)
	binary.BigEndian.PutUint32(h[10:], uint32(len(e.Value)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	if _, err := w.WriteString(e.Key); err != nil {
		return err
	}
	_, err := w.Write(e.Value)
	return err
}

// readEntry reads one entry, its value into alloc(n) (a node reads it
// into memory from its store, so it stores it without a copy). At the
// end of the stream it returns io.EOF; a stream cut inside an entry is
// io.ErrUnexpectedEOF.
func readEntry(r *bufio.Reader, maxValue int64, alloc func(n int) []byte) (e Entry, err error) {
	var h [entryHeaderBytes]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return e, err // io.EOF only when nothing of h was read
	}
	kl, vl := binary.BigEndian.Uint16(h[0:]), int64(binary.BigEndian.Uint32(h[10:]))
	e.Tombstone = kl&entryTombstone != 0
	kl &^= entryTombstone
	if vl > maxValue || (e.Tombstone && vl > 0) {
		return e, fmt.Errorf("%w: %d bytes, limit %d", errEntryTooLarge, vl, maxValue)
	}
	kb := make([]byte, kl)
	if _, err := io.ReadFull(r, kb); err != nil {
		return e, unexpected(err)
	}
	e.Key, e.Version = string(kb), binary.BigEndian.Uint64(h[2:])
	if e.Tombstone {
		return e, nil
	}
	e.Value = alloc(int(vl))
	if _, err := io.ReadFull(r, e.Value); err != nil {
		return e, unexpected(err)
	}
	return e, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
