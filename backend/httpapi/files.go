package httpapi

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
)

// FileStorage is where uploads go and who processes them (backend/files).
type FileStorage interface {
	TempFile() (*os.File, error)
	Keep(tmp, id string) error
	// Open and OpenThumbnail open a file's bytes and its thumbnail (on a cluster's replica,
	// fetched first if this node lacks them); bytes that are nowhere are an error wrapping
	// fs.ErrNotExist.
	Open(ctx context.Context, id string) (*os.File, error)
	OpenThumbnail(ctx context.Context, id string) (*os.File, error)
	// Remove deletes a file's bytes and thumbnail (in a cluster, from every node's reach);
	// what is not there is no error.
	Remove(ctx context.Context, id string) error
	// Submit queues a file for processing; an error means the queue is full.
	Submit(f *backend.File) error
}

// UploadStore records uploads against their uploader's daily quota (Config.UploadQuota); the
// bolt store implements it.
type UploadStore interface {
	// UploadedOn returns how many bytes of userID's uploads were recorded on day
	// (backend.UploadDay).
	UploadedOn(ctx context.Context, userID, day string) (int64, error)
	// CreateFileWithin is backend.FileStore's CreateFile that also adds f.Size to the uploader's
	// bytes of the day in the same commit; beyond quota bytes (> 0) it records nothing and
	// returns backend.CheckUploadQuota's ERATELIMIT error.
	CreateFileWithin(ctx context.Context, f *backend.File, quota int64) error
	// DeleteFile removes a file's record that was never processed and gives its bytes back to
	// the uploader's day.
	DeleteFile(ctx context.Context, id string) error
}

// DefaultMaxUpload is the largest file accepted unless Config.MaxUpload says otherwise.
const DefaultMaxUpload = 25 << 20 // bytes

// uploadProgressEvery is how often FILE_UPLOAD_PROGRESS goes to the uploader at most.
const uploadProgressEvery = 100 * time.Millisecond

// uploadFile streams a multipart "file" part to disk (never whole in memory), telling the
// uploader how far it got, then queues it for processing and answers 202 with the file.
//
// An upload counts as a message for the per-user message limit, and its bytes count against the
// uploader's quota of the UTC day: an announced Content-Length is checked before anything is
// read, the bytes as they arrive (a chunked body is cut off where it crosses the quota), and the
// record in the commit that stores it. A refused upload — too large, over the quota, broken off,
// or not queued because processing is busy (503) — leaves neither bytes on disk nor a record.
func (h *Handler) uploadFile(w http.ResponseWriter, r *http.Request, u *backend.User) (err error) {
	defer func() {
		if err != nil {
			// Refused: whatever the client still sends is not read, so that an endless or stalled
			// body costs nothing more (net/http would read up to 256 KiB of it first).
			w.Header().Set("Connection", "close")
		}
	}()
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	if ok, wait := h.messageLimit.allow(u.ID); !ok {
		return tooManyBecause(w, wait, "You are sending messages too fast")
	}
	limit := h.cfg.MaxUpload
	tooLarge := backend.Errorf(backend.ETOOLARGE, "Files are limited to %d MB.", limit>>20)
	const framing = 64 << 10 // room for the multipart framing around the file
	if r.ContentLength > limit+framing {
		return tooLarge
	}
	// room is how many bytes the uploader may still send today.
	room, quota := limit, h.cfg.UploadQuota
	overQuota := func(size int64) error { return nil }
	if quota > 0 {
		used, err := h.cfg.Uploads.UploadedOn(r.Context(), u.ID, backend.UploadDay(h.now()))
		if err != nil {
			return err
		}
		overQuota = func(size int64) error {
			err := backend.CheckUploadQuota(used, size, quota)
			if err != nil {
				h.retryTomorrow(w)
			}
			return err
		}
		if err := overQuota(max(0, r.ContentLength-framing)); err != nil {
			return err
		}
		room = min(limit, max(0, quota-used))
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+framing)
	mr, err := r.MultipartReader()
	if err != nil {
		return backend.Errorf(backend.EUNSUPPORTED, "Send the file as multipart/form-data with a field named file.")
	}
	var part io.ReadCloser
	var name string
	for part == nil {
		p, err := mr.NextPart()
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			return tooLarge
		case err == io.EOF:
			return backend.Errorf(backend.EINVALID, "The form has no field named file.")
		case asBodyTimeout(err) != nil:
			return asBodyTimeout(err)
		case err != nil:
			return backend.Errorf(backend.EINVALID, "Malformed multipart body: %v.", err)
		case p.FormName() == "file":
			part, name = p, backend.SafeFileName(p.FileName())
		}
	}
	tmp, err := h.cfg.Files.TempFile()
	if err != nil {
		return err
	}
	kept := false
	defer func() {
		if !kept {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	size, err := h.receive(tmp, part, u, chat.ID, name, r.ContentLength, room)
	if err != nil {
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr) || errors.Is(err, errUploadTooLarge) && size > limit:
			return tooLarge
		case errors.Is(err, errUploadTooLarge):
			if err := overQuota(size); err != nil {
				return err
			}
			return tooLarge
		}
		if err := asBodyTimeout(err); err != nil {
			return err
		}
		return backend.Errorf(backend.EINVALID, "The upload broke off: %v.", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	f := &backend.File{ChatID: chat.ID, UploaderID: u.ID, Name: name, Size: size}
	if err := h.cfg.Uploads.CreateFileWithin(r.Context(), f, max(0, quota)); err != nil {
		if backend.ErrorCode(err) == backend.ERATELIMIT {
			h.retryTomorrow(w) // uploads that passed the check together crossed the quota
		}
		return err
	}
	if err := h.cfg.Files.Keep(tmp.Name(), f.ID); err != nil {
		h.forgetFile(r, f.ID)
		return err
	}
	kept = true
	job := *f // the worker fills in its own copy while this one is answered
	if err := h.cfg.Files.Submit(&job); err != nil {
		if err := h.cfg.Files.Remove(r.Context(), f.ID); err != nil {
			h.log.ErrorContext(r.Context(), "remove a refused upload", "file", f.ID, "err", err)
		}
		h.forgetFile(r, f.ID)
		w.Header().Set("Retry-After", "60")
		return backend.Errorf(backend.EUNAVAILABLE, "The server is too busy to process files; upload it again in a minute.")
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"file": f})
	return nil
}

// forgetFile deletes the record of an upload that was refused after it was recorded; a failure
// is logged (the record stays "processing", pointing at no bytes).
func (h *Handler) forgetFile(r *http.Request, id string) {
	if err := h.cfg.Uploads.DeleteFile(context.WithoutCancel(r.Context()), id); err != nil {
		h.log.ErrorContext(r.Context(), "delete a refused upload's record", "file", id, "err", err)
	}
}

// retryTomorrow sets Retry-After to the seconds until the upload quota's day ends (midnight UTC).
func (h *Handler) retryTomorrow(w http.ResponseWriter) {
	now := h.now()
	secs := max(1, int(math.Ceil(backend.UploadDayEnds(now).Sub(now).Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

var errUploadTooLarge = errors.New("upload exceeds the limit")

// receive copies the part to dst, publishing FILE_UPLOAD_PROGRESS to the uploader at most every
// uploadProgressEvery and once at the end.
func (h *Handler) receive(dst io.Writer, src io.Reader, u *backend.User, chatID, name string, total, limit int64) (int64, error) {
	buf := make([]byte, 64<<10)
	var loaded int64
	var last time.Time
	progress := func() {
		h.broker.Publish(&backend.Event{Type: backend.EventFileUploadProgress, ChatID: chatID, Timestamp: h.now().UnixMilli(),
			Upload: &backend.UploadProgress{Name: name, Loaded: loaded, Total: total}, Personal: true, Recipients: []string{u.ID}})
		last = h.now()
	}
	for {
		n, err := src.Read(buf)
		if n > 0 {
			loaded += int64(n)
			if loaded > limit {
				return loaded, errUploadTooLarge
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return loaded, werr
			}
			if h.now().Sub(last) >= uploadProgressEvery {
				progress()
			}
		}
		if err == io.EOF {
			progress()
			return loaded, nil
		}
		if err != nil {
			return loaded, err
		}
	}
}

// fileOf returns the file named by {fileId} if u is a member of its chat.
func (h *Handler) fileOf(r *http.Request, u *backend.User) (*backend.File, error) {
	id := r.PathValue("fileId")
	if err := validID("fileId", id); err != nil {
		return nil, err
	}
	f, err := h.reads.File(r.Context(), id)
	if err != nil {
		return nil, err
	}
	chat, err := h.reads.Chat(r.Context(), f.ChatID)
	if err != nil {
		return nil, err
	}
	if !chat.HasMember(u.ID) {
		return nil, backend.Errorf(backend.EFORBIDDEN, "You are not a member of this file's chat.")
	}
	return f, nil
}

// inlineTypes may be shown in the browser; everything else downloads as an attachment, so an
// uploaded HTML or SVG page can never run in the app's origin.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true}

func (h *Handler) downloadFile(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	f, err := h.fileOf(r, u)
	if err != nil {
		return err
	}
	in, err := h.cfg.Files.Open(r.Context(), f.ID)
	if err != nil {
		return missingBytes(err)
	}
	defer in.Close()
	disposition, ctype := "attachment", "application/octet-stream"
	if inlineTypes[f.MIME] {
		disposition, ctype = "inline", f.MIME
	} else if strings.HasPrefix(f.MIME, "text/plain") {
		ctype = "text/plain; charset=utf-8"
	}
	serveStored(w, r, in, f.Name, disposition, ctype)
	return nil
}

func (h *Handler) downloadThumbnail(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	f, err := h.fileOf(r, u)
	if err != nil {
		return err
	}
	if !f.Thumbnail {
		return backend.Errorf(backend.ENOTFOUND, "This file has no thumbnail.")
	}
	in, err := h.cfg.Files.OpenThumbnail(r.Context(), f.ID)
	if err != nil {
		return missingBytes(err)
	}
	defer in.Close()
	serveStored(w, r, in, "thumbnail-"+f.Name+".png", "inline", "image/png")
	return nil
}

// missingBytes turns the error of opening a file whose record exists but whose bytes do not
// (not processed yet on a cluster, or deleted a moment ago) into ENOTFOUND; others stay.
func missingBytes(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return backend.Errorf(backend.ENOTFOUND, "The file's content is not available.")
	}
	return err
}

func serveStored(w http.ResponseWriter, r *http.Request, in *os.File, name, disposition, ctype string) {
	storedHeaders(w.Header(), name, disposition, ctype)
	var mod time.Time
	if st, err := in.Stat(); err == nil {
		mod = st.ModTime()
	}
	http.ServeContent(w, r, "", mod, in)
}

// storedHeaders are the headers of every stored upload served (a file, a thumbnail, an avatar):
// the type as given and never sniffed, a sandbox that runs nothing, a private cache.
func storedHeaders(hdr http.Header, name, disposition, ctype string) {
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	hdr.Set("Cache-Control", "private, max-age=86400")
}
