package files

import (
	"bufio"
	"encoding/binary"
	"image"
	"image/color"
	"io"
	"sync"
)

// MaxDecodeBytes bounds the memory that decoding images holds at once, across all workers
// (bytes, 64 MiB). An image whose decoded form would need more is refused before it is decoded;
// smaller ones wait for each other's memory, so two workers decoding two 48 MiB images take
// turns. A 4000×3000 photo (PNG 8 bit: 46 MiB; JPEG 4:2:0: 17 MiB) fits; a 16-bit RGBA PNG of
// 8000×5000 pixels (305 MiB decoded from a 311 KB file) does not.
const MaxDecodeBytes = 64 << 20

// decodeSize estimates the bytes that image.Decode allocates for the image whose header cfg
// was read from in (rewound before and after): the pixel buffers of the colour model the
// decoder really produces, plus what the format holds besides them (an interlaced PNG's passes, a
// progressive JPEG's coefficients, a CMYK or RGB JPEG's intermediate planes). It errs on the
// large side: an unknown model counts 8 bytes per pixel.
func decodeSize(in io.ReadSeeker, format string, cfg image.Config) (int64, error) {
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "png":
		info := scanPNG(bufio.NewReader(in))
		per := bytesPerPixel(cfg.ColorModel)
		if info.transparent { // tRNS turns Gray into NRGBA and Gray16 into NRGBA64
			switch cfg.ColorModel {
			case color.GrayModel:
				per = 4
			case color.Gray16Model:
				per = 8
			}
		}
		size := pixels * per
		if info.interlaced { // each Adam7 pass is decoded into an image of its own, then merged
			size *= 2
		}
		return size, nil
	case "jpeg":
		// Planes are padded to whole blocks of up to 16×16 pixels.
		padded := int64(cfg.Width+16) * int64(cfg.Height+16)
		info := scanJPEG(bufio.NewReader(in))
		samples := float64(padded) * info.planes // bytes of the Y, Cb, Cr (and K) planes
		size := samples
		if info.progressive { // 64 int32 coefficients per 8×8 block of every plane, kept to the end
			size += 4 * samples
		}
		switch cfg.ColorModel {
		case color.RGBAModel, color.CMYKModel: // converted from the planes into a second image
			size += 4 * float64(padded)
		}
		return int64(size), nil
	default: // GIF: only the first frame is decoded, a paletted image within the logical screen
		return pixels * bytesPerPixel(cfg.ColorModel), nil
	}
}

// bytesPerPixel is the size of one pixel of an image in model m; 8 (the largest) when unknown.
func bytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.YCbCrModel: // 4:4:4 at most
		return 3
	}
	return 8
}

// pngInfo is what image.DecodeConfig does not tell about a PNG.
type pngInfo struct {
	interlaced  bool // Adam7
	transparent bool // a tRNS chunk before the image data
}

// scanPNG reads the chunk headers before the first IDAT. A file it cannot follow (cut short,
// or more than 1,000 chunks before the data) counts as interlaced and transparent: the worst case.
func scanPNG(r *bufio.Reader) pngInfo {
	worst := pngInfo{interlaced: true, transparent: true}
	var info pngInfo
	if _, err := r.Discard(8); err != nil { // the signature; DecodeConfig checked it
		return worst
	}
	var hdr [8]byte
	for range 1000 {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return worst
		}
		n, typ := int(binary.BigEndian.Uint32(hdr[:4])), string(hdr[4:])
		switch typ {
		case "IDAT":
			return info
		case "tRNS":
			info.transparent = true
		case "IHDR":
			var ihdr [13]byte
			if n != len(ihdr) {
				return worst
			}
			if _, err := io.ReadFull(r, ihdr[:]); err != nil {
				return worst
			}
			info.interlaced = ihdr[12] != 0
			n = 0
		}
		if _, err := r.Discard(n + 4); err != nil { // the chunk's data and CRC
			return worst
		}
	}
	return worst
}

// jpegInfo is what image.DecodeConfig does not tell about a JPEG.
type jpegInfo struct {
	progressive bool
	// planes is the bytes per pixel of all components together after subsampling: 1 for gray,
	// 1.5 for YCbCr 4:2:0, 3 for 4:4:4, 4 for CMYK.
	planes float64
}

// scanJPEG reads the markers up to the frame header (SOF). A file it cannot follow counts as
// progressive with 4 full planes: the worst case.
func scanJPEG(r *bufio.Reader) jpegInfo {
	worst := jpegInfo{progressive: true, planes: 4}
	if _, err := r.Discard(2); err != nil { // SOI; DecodeConfig checked it
		return worst
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return worst
		}
		if b != 0xff {
			continue // stray bytes between segments are skipped, as decoders do
		}
		marker, err := r.ReadByte()
		for err == nil && marker == 0xff { // fill bytes
			marker, err = r.ReadByte()
		}
		if err != nil {
			return worst
		}
		if marker == 0x00 || marker == 0x01 || marker >= 0xd0 && marker <= 0xd9 {
			continue // no length field
		}
		var lenBuf [2]byte
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
			return worst
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:])) - 2
		if n < 0 {
			return worst
		}
		isSOF := marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc
		if !isSOF {
			if _, err := r.Discard(n); err != nil {
				return worst
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(r, seg); err != nil || n < 6 {
			return worst
		}
		comps := int(seg[5])
		if comps < 1 || comps > 4 || n < 6+3*comps {
			return worst
		}
		var hmax, vmax, sum int
		for i := range comps {
			hv := seg[6+3*i+1]
			h, v := int(hv>>4), int(hv&0x0f)
			if h < 1 || v < 1 {
				return worst
			}
			hmax, vmax, sum = max(hmax, h), max(vmax, v), sum+h*v
		}
		return jpegInfo{
			progressive: marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce,
			planes:      float64(sum) / float64(hmax*vmax),
		}
	}
}

// budget is a counting semaphore over bytes: acquire blocks until n bytes are free. It is fair
// enough for two workers: whoever waits is woken on every release.
type budget struct {
	mu   sync.Mutex
	cond *sync.Cond
	free int64
}

func newBudget(n int64) *budget {
	b := &budget{free: n}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire takes n bytes, waiting while fewer are free; n must not exceed the budget's size.
func (b *budget) acquire(n int64) {
	b.mu.Lock()
	for b.free < n {
		b.cond.Wait()
	}
	b.free -= n
	b.mu.Unlock()
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
	b.cond.Broadcast()
}
