package files

import (
	"bufio"
	"bytes"
	"image"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// decodedBytes is the size of img's pixel buffers.
func decodedBytes(t *testing.T, img image.Image) int64 {
	t.Helper()
	switch m := img.(type) {
	case *image.Gray:
		return int64(len(m.Pix))
	case *image.Gray16:
		return int64(len(m.Pix))
	case *image.RGBA:
		return int64(len(m.Pix))
	case *image.NRGBA:
		return int64(len(m.Pix))
	case *image.RGBA64:
		return int64(len(m.Pix))
	case *image.NRGBA64:
		return int64(len(m.Pix))
	case *image.Paletted:
		return int64(len(m.Pix))
	case *image.CMYK:
		return int64(len(m.Pix))
	case *image.YCbCr:
		return int64(len(m.Y) + len(m.Cb) + len(m.Cr))
	}
	t.Fatalf("unexpected image type %T", img)
	return 0
}

// TestDecodeSizeCoversWhatDecodersAllocate decodes one image of each colour model the decoders
// produce (PngSuite and Go's own test images) and checks that the estimate made before decoding
// covers the decoded image, and the format's extra memory where it has some.
func TestDecodeSizeCoversWhatDecodersAllocate(t *testing.T) {
	for _, tc := range []struct {
		file string
		// extra: the estimate must be at least this many times the decoded image (an interlaced
		// PNG's passes, a progressive JPEG's coefficients).
		extra float64
	}{
		{"basn0g08.png", 1},           // Gray
		{"basn0g16.png", 1},           // Gray16
		{"basn2c16.png", 1},           // RGBA64
		{"basn3p08.png", 1},           // Paletted
		{"basn4a08.png", 1},           // gray + alpha: NRGBA
		{"basn6a16.png", 1},           // NRGBA64
		{"ftbbn0g04.png", 1},          // gray with tRNS: NRGBA, though DecodeConfig says Gray
		{"ftbwn0g16.png", 1},          // gray16 with tRNS: NRGBA64, though DecodeConfig says Gray16
		{"ftbrn2c08.png", 1},          // RGB with tRNS: NRGBA
		{"basn3p04-31i.png", 2},       // Adam7 interlaced
		{"video-001.q50.420.jpeg", 1}, // YCbCr 4:2:0
		{"video-001.q50.444.jpeg", 1}, // YCbCr 4:4:4
		{"video-001.q50.420.progressive.jpeg", 5},
		{"video-001.cmyk.jpeg", 2},   // YCbCr and K planes, then CMYK
		{"video-001.rgb.jpeg", 1.75}, // three planes, then RGBA
		{"video-005.gray.jpeg", 1},
		{"video-001.gif", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			est, err := decodeSize(bytes.NewReader(data), format, cfg)
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := image.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			got := decodedBytes(t, img)
			if float64(est) < tc.extra*float64(got) {
				t.Fatalf("estimate %d bytes for a %T of %d bytes (want at least %.0f×)", est, img, got, tc.extra)
			}
			// Not wildly more: 8 bytes per pixel for a 1-byte model would refuse images that fit.
			if float64(est) > 2*tc.extra*float64(got)+4096 {
				t.Fatalf("estimate %d bytes for a %T of %d bytes: too pessimistic", est, img, got)
			}
		})
	}
}

func TestScanPNGAndJPEG(t *testing.T) {
	scan := func(file string) *bufio.Reader {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		return bufio.NewReader(bytes.NewReader(data))
	}
	for file, want := range map[string]pngInfo{
		"basn0g08.png":     {},
		"ftbbn0g04.png":    {transparent: true},
		"basn3p04-31i.png": {interlaced: true},
	} {
		if got := scanPNG(scan(file)); got != want {
			t.Errorf("%s: %+v, want %+v", file, got, want)
		}
	}
	for file, want := range map[string]jpegInfo{
		"video-001.q50.420.jpeg":             {planes: 1.5},
		"video-001.q50.444.jpeg":             {planes: 3},
		"video-001.q50.420.progressive.jpeg": {planes: 1.5, progressive: true},
		"video-005.gray.jpeg":                {planes: 1},
		"video-001.cmyk.jpeg":                {planes: 4},
	} {
		if got := scanJPEG(scan(file)); got != want {
			t.Errorf("%s: %+v, want %+v", file, got, want)
		}
	}
	// Cut short: the worst case, never a small estimate.
	if got := scanPNG(bufio.NewReader(bytes.NewReader([]byte("\x89PNG\r\n\x1a\n\x00\x00")))); got != (pngInfo{true, true}) {
		t.Errorf("truncated PNG: %+v", got)
	}
	if got := scanJPEG(bufio.NewReader(bytes.NewReader([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00}))); got != (jpegInfo{true, 4}) {
		t.Errorf("truncated JPEG: %+v", got)
	}
}

// TestBudgetWaitsForMemory: an acquire that does not fit waits until enough is released.
func TestBudgetWaitsForMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBudget(100)
		b.acquire(60)
		var got atomic.Bool
		go func() {
			b.acquire(60)
			got.Store(true)
		}()
		synctest.Wait()
		if got.Load() {
			t.Fatal("120 of 100 bytes held at once")
		}
		b.acquire(40) // what is left still fits
		b.release(40)
		b.release(60)
		synctest.Wait()
		if !got.Load() {
			t.Fatal("the waiter was not woken by the release")
		}
	})
}
