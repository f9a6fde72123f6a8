package files_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/files"
)

// finished is a Finisher that hands every processed file to the test.
type finished chan *backend.File

func (c finished) FinishFile(_ context.Context, f *backend.File) error {
	c <- f
	return nil
}

func newProcessor(t *testing.T) (*files.Processor, finished) {
	t.Helper()
	done := make(finished, 16)
	p, err := files.New(t.TempDir(), done, 2, 8, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, done
}

// process stores data as the file id and processes it; it returns the files as they finished.
func process(t *testing.T, p *files.Processor, done finished, data map[string][]byte) map[string]*backend.File {
	t.Helper()
	for id, b := range data {
		if err := os.WriteFile(p.Path(id), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.Submit(&backend.File{ID: id, Name: id, Size: int64(len(b)), Status: backend.FileProcessing}); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*backend.File{}
	for range data {
		select {
		case f := <-done:
			out[f.ID] = f
		case <-time.After(2 * time.Minute):
			t.Fatalf("processed %d of %d files", len(out), len(data))
		}
	}
	return out
}

// writePNG writes a non-interlaced PNG whose rows come from row (filter byte first), so that a
// huge image is made without holding it: depth and colorType as in IHDR.
func writePNG(w *bytes.Buffer, width, height int, depth, colorType byte, row func(y int, line []byte)) {
	chunk := func(typ string, data []byte) { writeChunk(w, typ, data) }
	w.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(width))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(height))
	chunk("IHDR", append(ihdr, depth, colorType, 0, 0, 0))
	channels := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[colorType]
	line := make([]byte, 1+width*channels*int(depth)/8)
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	for y := range height {
		row(y, line)
		zw.Write(line)
		if idat.Len() > 1<<20 || y == height-1 {
			if y == height-1 {
				zw.Close()
			}
			chunk("IDAT", idat.Bytes())
			idat.Reset()
		}
	}
	chunk("IEND", nil)
}

// bomb is an 8000×5000 16-bit RGBA PNG of zeros: 305 MiB decoded from 415 KB. Compressing
// 305 MiB takes seconds (half a minute under -race), so it compresses two rows and repeats the
// second: once the compressor's window holds only zeros, every row of zeros compresses to the
// same bytes (a flush ends each on a byte boundary; the flushes cost the extra 100 KB over the
// review's 311 KB file).
var bomb = sync.OnceValue(func() []byte {
	const width, height = 8000, 5000
	row := make([]byte, 1+width*8) // filter byte 0, then 8 bytes per pixel
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(row)
	fw.Flush()
	firstLen := deflated.Len()
	fw.Write(row)
	fw.Flush()
	second := bytes.Clone(deflated.Bytes()[firstLen:])
	for range height - 2 {
		deflated.Write(second)
	}
	fw.Close() // the final, empty block
	var idat bytes.Buffer
	idat.Write([]byte{0x78, 0xda}) // zlib header: deflate, 32 KiB window, best compression
	idat.Write(deflated.Bytes())
	// Adler-32 of n zeros: a stays 1, b adds 1 per byte.
	n := uint32(len(row) * height)
	idat.Write(binary.BigEndian.AppendUint32(nil, (n%65521)<<16|1))

	var png bytes.Buffer
	png.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	writeChunk(&png, "IHDR", append(ihdr, 16, 6, 0, 0, 0)) // 16-bit RGBA
	writeChunk(&png, "IDAT", idat.Bytes())
	writeChunk(&png, "IEND", nil)
	return png.Bytes()
})

func writeChunk(w *bytes.Buffer, typ string, data []byte) {
	start := w.Len()
	w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
	w.WriteString(typ)
	w.Write(data)
	w.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(w.Bytes()[start+4:])))
}

// heapAllocs is the bytes allocated on the heap since the program started.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestBombIsRefusedWithoutDecoding(t *testing.T) {
	p, done := newProcessor(t)
	data := bomb()
	if len(data) > 512<<10 {
		t.Fatalf("the bomb is %d bytes; it should be a small file", len(data))
	}
	before := heapAllocs()
	f := process(t, p, done, map[string][]byte{"bomb": data})["bomb"]
	allocated := heapAllocs() - before
	if f.Status != backend.FileFailed || f.Thumbnail {
		t.Fatalf("bomb processed: %+v", f)
	}
	if want := "The image is 8000×5000 pixels; decoding it would take 306 MiB, more than the 64 MiB"; !strings.HasPrefix(f.Error, want) {
		t.Fatalf("reason %q, want it to start with %q", f.Error, want)
	}
	if f.Width != 8000 || f.Height != 5000 || f.MIME != "image/png" || f.SHA256 == "" {
		t.Fatalf("metadata: %+v", f)
	}
	// Hashing and reading the header take little; decoding would take 305 MiB.
	if allocated > 16<<20 {
		t.Fatalf("processing the bomb allocated %d MiB: it was decoded", allocated>>20)
	}
}

// photo is a 4000×3000 8-bit RGB PNG: 46 MiB decoded, within MaxDecodeBytes.
var photo = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	writePNG(&buf, 4000, 3000, 8, 2, func(y int, line []byte) {
		for x := 1; x < len(line); x++ {
			line[x] = byte(x/3 + y)
		}
	})
	return buf.Bytes()
})

// TestLargePhotoIsProcessed: a legitimate 4000×3000 photo still gets its thumbnail.
func TestLargePhotoIsProcessed(t *testing.T) {
	p, done := newProcessor(t)
	f := process(t, p, done, map[string][]byte{"photo": photo()})["photo"]
	if f.Status != backend.FileReady || !f.Thumbnail || f.Width != 4000 || f.Height != 3000 {
		t.Fatalf("photo: %+v", f)
	}
	thumb, err := os.Open(p.ThumbnailPath("photo"))
	if err != nil {
		t.Fatal(err)
	}
	defer thumb.Close()
	cfg, err := png.DecodeConfig(thumb)
	if err != nil || cfg.Width != files.ThumbnailSize || cfg.Height != 240 {
		t.Fatalf("thumbnail: %v %+v", err, cfg)
	}
}

// peakRSS resets the process's peak resident set size to the current one (Linux ≥ 4.0), runs
// fn and returns by how much the peak exceeded the start (bytes).
func peakRSS(t *testing.T, fn func()) int64 {
	t.Helper()
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("peak RSS cannot be measured here (%v): Linux only", err)
	}
	start := procStatus(t, "VmRSS")
	fn()
	return procStatus(t, "VmHWM") - start
}

// procStatus reads one "kB" field of /proc/self/status, in bytes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestSixBombsKeepMemoryBounded is the review's measurement: six bombs uploaded together took the
// server from 17 MB to 1.31 GB. Now the peak grows by less than 100 MiB.
func TestSixBombsKeepMemoryBounded(t *testing.T) {
	p, done := newProcessor(t)
	data := map[string][]byte{}
	for i := range 6 {
		data[fmt.Sprint("bomb", i)] = bomb()
	}
	var out map[string]*backend.File
	extra := peakRSS(t, func() { out = process(t, p, done, data) })
	t.Logf("six 8000×5000 16-bit PNG bombs: peak RSS +%d MiB", max(0, extra>>20))
	for id, f := range out {
		if f.Status != backend.FileFailed {
			t.Fatalf("%s: %+v", id, f)
		}
	}
	if extra > 100<<20 {
		t.Fatalf("peak RSS grew by %d MiB processing six bombs", extra>>20)
	}
}

// TestSixPhotosKeepMemoryBounded: six legitimate 46 MiB decodes on two workers take turns
// rather than run side by side.
func TestSixPhotosKeepMemoryBounded(t *testing.T) {
	p, done := newProcessor(t)
	data := map[string][]byte{}
	for i := range 6 {
		data[fmt.Sprint("photo", i)] = photo()
	}
	var out map[string]*backend.File
	extra := peakRSS(t, func() { out = process(t, p, done, data) })
	t.Logf("six 4000×3000 8-bit PNG photos: peak RSS +%d MiB", max(0, extra>>20))
	for id, f := range out {
		if f.Status != backend.FileReady || !f.Thumbnail {
			t.Fatalf("%s: %+v", id, f)
		}
	}
	if extra > 100<<20 {
		t.Fatalf("peak RSS grew by %d MiB processing six photos", extra>>20)
	}
}

// Sweep removes temp files and the bytes of files without a record, and keeps the rest.
func TestSweepRemovesWhatNoRecordNames(t *testing.T) {
	p, _ := newProcessor(t)
	const kept, gone = "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAW"
	for _, name := range []string{kept, kept + ".thumb.png", gone, gone + ".thumb.png", "upload-123.part", "README"} {
		if err := os.WriteFile(filepath.Join(filepath.Dir(p.Path(kept)), name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := p.Sweep(context.Background(), func(_ context.Context, id string) (bool, error) { return id == kept, nil })
	if err != nil || n != 3 {
		t.Fatalf("Sweep = %d, %v; want 3 removed", n, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p.Path(kept)))
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{kept, kept + ".thumb.png", "README"}; !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
}

// Resume processes again an unfinished upload whose bytes are on the disk and records failed
// one whose bytes are not (they went with the process that had them).
func TestResumeFinishesTheUnfinishedUploads(t *testing.T) {
	p, done := newProcessor(t)
	const here, gone = "01J0000000000000000000000H", "01J0000000000000000000000G"
	if err := os.WriteFile(p.Path(here), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	pending := []*backend.File{
		{ID: here, Name: "a.txt", Size: 5, Status: backend.FileProcessing},
		{ID: gone, Name: "b.txt", Size: 5, Status: backend.FileProcessing},
	}
	queued, failed, err := p.Resume(t.Context(), pending)
	if err != nil || queued != 1 || failed != 1 {
		t.Fatalf("Resume: %d queued, %d failed, %v; want 1 and 1", queued, failed, err)
	}
	got := map[string]*backend.File{}
	for len(got) < 2 {
		f := <-done
		got[f.ID] = f
	}
	if f := got[here]; f.Status != backend.FileReady {
		t.Fatalf("the upload whose bytes are here: %+v, want ready", f)
	}
	if f := got[gone]; f.Status != backend.FileFailed || f.Error != files.InterruptedReason {
		t.Fatalf("the upload whose bytes are gone: %+v, want failed, interrupted", f)
	}
}
