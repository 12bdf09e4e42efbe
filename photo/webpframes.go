package photo

import (
	"bytes"
	"encoding/binary"
	"errors"

	"golang.org/x/image/webp"
)

// inspectWebP reads a WebP's RIFF chunks without decoding any pixel. A
// still image is one frame; an animation (a VP8X header with its
// animation flag, then ANMF chunks) is split into its frames, each made a
// still WebP of its own, because x/image/webp decodes only still images.
func inspectWebP(data []byte) (picture, error) {
	chunks, err := riffChunks(data)
	if err != nil {
		return picture{}, err
	}
	if len(chunks) == 0 || chunks[0].id != "VP8X" || len(chunks[0].data) < 10 || chunks[0].data[0]&0x02 == 0 {
		cfg, err := webp.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return picture{}, err
		}
		p := still(data, cfg.Width, cfg.Height, 0, 1)
		p.cost = webpCost(cfg.Width, cfg.Height)
		return p, nil
	}
	vp8x := chunks[0].data
	p := picture{width: le24(vp8x[4:]) + 1, height: le24(vp8x[7:]) + 1}
	for _, c := range chunks[1:] {
		if c.id != "ANMF" {
			continue // ANIM, ICCP, EXIF, XMP and unknown chunks carry no pixels
		}
		if len(c.data) < 16 {
			return picture{}, errors.New("webp: frame header too short")
		}
		x, y := 2*le24(c.data), 2*le24(c.data[3:])
		w, h := le24(c.data[6:])+1, le24(c.data[9:])+1
		if x+w > p.width || y+h > p.height {
			return picture{}, errors.New("webp: frame outside the canvas")
		}
		f, err := stillWebP(w, h, c.data[16:])
		if err != nil {
			return picture{}, err
		}
		p.add(f, w, h)
		p.cost = max(p.cost, webpCost(w, h))
	}
	if p.count == 0 {
		return picture{}, errors.New("webp: animation without frames")
	}
	return p, nil
}

// webpCost is what decoding a w × h WebP frame allocates at most: a lossy
// frame is 1.5 bytes a pixel (macroblocks of 16) and its alpha plane a
// lossless image of its own; a lossless frame is 4 bytes a pixel, 4 more
// when a colour-indexing transform unpacks it and up to 3 for the
// transforms' own images, beside up to 2600 groups of five Huffman trees
// (at most 2171 nodes of 8 bytes and five look-up tables of 512: under
// 24 KiB a group), one group at most per tile of 4 × 4 pixels.
func webpCost(w, h int) int64 {
	tiles := int64((w+3)/4) * int64((h+3)/4)
	return decodeCost(w, h, 12, 16) + min(tiles, 2600)*24<<10
}

// stillWebP wraps an animation frame's data (an optional ALPH chunk, then
// VP8 or VP8L) in a still WebP: a VP8X header of the frame's size, with
// the alpha flag when an ALPH chunk comes, so that the decoder checks the
// bitstream's size against the frame's.
func stillWebP(w, h int, frameData []byte) (frame, error) {
	chunks, err := chunkList(frameData)
	if err != nil {
		return nil, err
	}
	var flags byte
	if len(chunks) > 0 && chunks[0].id == "ALPH" {
		flags = 0x10
	}
	b := make([]byte, 0, 30)
	b = binary.LittleEndian.AppendUint32(append(b, "RIFF"...), uint32(4+8+10+len(frameData)))
	b = binary.LittleEndian.AppendUint32(append(b, "WEBPVP8X"...), 10)
	b = append(b, flags, 0, 0, 0, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return frame{b, frameData}, nil
}

// riffChunk is one chunk of a RIFF file.
type riffChunk struct {
	id   string
	data []byte
}

// riffChunks returns the chunks of a RIFF WEBP file, or errCutShort when
// the file is shorter than its header says.
func riffChunks(data []byte) ([]riffChunk, error) {
	if len(data) < 12 {
		return nil, errCutShort
	}
	size := int64(binary.LittleEndian.Uint32(data[4:]))
	if size < 4 {
		return nil, errors.New("webp: RIFF size too small")
	}
	if 8+size > int64(len(data)) {
		return nil, errCutShort
	}
	return chunkList(data[12 : 8+size])
}

// chunkList splits a run of RIFF chunks (a four-character id, a
// little-endian size, the data, a pad byte when the size is odd).
func chunkList(data []byte) ([]riffChunk, error) {
	var chunks []riffChunk
	for i := 0; i < len(data); {
		if i+8 > len(data) {
			return nil, errCutShort
		}
		n := int64(binary.LittleEndian.Uint32(data[i+4:]))
		end := int64(i+8) + n
		if end > int64(len(data)) {
			return nil, errCutShort
		}
		chunks = append(chunks, riffChunk{string(data[i : i+4]), data[i+8 : end]})
		i = int(end + n&1)
	}
	return chunks, nil
}

func le24(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
