package photo

import (
	"errors"
	"fmt"
)

// inspectGIF reads a GIF's block structure, without decoding any pixel:
// the logical screen, and each frame as a GIF of its own (the header and
// global colour table, the blocks since the previous frame, the frame, a
// trailer). image/gif can only decode every frame at once, holding them
// all; one at a time, a decode holds one frame.
func inspectGIF(data []byte) (picture, error) {
	if len(data) < 13 {
		return picture{}, errCutShort
	}
	p := picture{width: le16(data[6:]), height: le16(data[8:])}
	header := 13 + colorTableSize(data[10])
	if header > len(data) {
		return picture{}, errCutShort
	}
	var largest int64
	start := header
	for i := header; ; {
		if i >= len(data) {
			return picture{}, errCutShort
		}
		switch data[i] {
		case 0x21: // extension: label, then data sub-blocks
			end, err := skipSubBlocks(data, i+2)
			if err != nil {
				return picture{}, err
			}
			i = end
		case 0x2c: // image descriptor
			if i+10 > len(data) {
				return picture{}, errCutShort
			}
			w, h := le16(data[i+5:]), le16(data[i+7:])
			end, err := skipSubBlocks(data, i+10+colorTableSize(data[i+9])+1) // +1: the LZW code size
			if err != nil {
				return picture{}, err
			}
			p.add(frame{data[:header], data[start:end], gifTrailer}, w, h)
			largest = max(largest, int64(w)*int64(h))
			i, start = end, end
		case 0x3b: // trailer
			if p.count == 0 {
				return picture{}, errors.New("gif: no image")
			}
			// image/gif keeps each frame's pixels (1 byte each) and, for
			// an interlaced frame, a copy in order.
			p.cost = 2*largest + decodeOverhead
			return p, nil
		default:
			return picture{}, fmt.Errorf("gif: unknown block type 0x%02x", data[i])
		}
	}
}

// colorTableSize is the bytes of the colour table a GIF's packed fields
// announce: 3 × 2^(n+1) when its top bit is set.
func colorTableSize(fields byte) int {
	if fields&0x80 == 0 {
		return 0
	}
	return 3 << (fields&7 + 1)
}

// skipSubBlocks returns the index after the data sub-blocks that start at
// i (each a length byte and that many bytes, ended by a zero length).
func skipSubBlocks(data []byte, i int) (int, error) {
	for {
		if i >= len(data) {
			return 0, errCutShort
		}
		n := int(data[i])
		i++
		if n == 0 {
			return i, nil
		}
		i += n
	}
}

var gifTrailer = []byte{0x3b}

func le16(b []byte) int { return int(b[0]) | int(b[1])<<8 }
