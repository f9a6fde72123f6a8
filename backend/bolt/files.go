package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

func (s *Store) CreateFile(ctx context.Context, f *backend.File) error {
	return s.CreateFileWithin(ctx, f, 0)
}

// CreateFileWithin is CreateFile that also adds f.Size to the uploader's bytes of the UTC day
// (backend.UploadDay), in the same commit. When that would exceed quota bytes (> 0; 0 is no
// quota) it records nothing and returns backend.CheckUploadQuota's ERATELIMIT error. Only the
// current day is kept per user: a new day's first upload forgets the earlier ones.
func (s *Store) CreateFileWithin(ctx context.Context, f *backend.File, quota int64) error {
	return s.update(ctx, func(t *txn) error {
		chat, err := getChat(t.Tx, f.ChatID)
		if err != nil {
			return err
		}
		if !chat.HasMember(f.UploaderID) {
			return backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
		}
		if err := backend.CheckWritable(chat); err != nil {
			return err
		}
		uploads := t.Bucket(bucketUploads)
		day := concat(f.UploaderID, backend.UploadDay(t.now))
		used := uploadedBytes(uploads, day)
		if err := backend.CheckUploadQuota(used, f.Size, quota); err != nil {
			return err
		}
		f.ID = t.newID()
		f.Status = backend.FileProcessing
		f.CreatedAt = t.now.UnixMilli()
		if err := putJSON(t.Bucket(bucketFiles), f.ID, f); err != nil {
			return err
		}
		for _, k := range keysWithPrefix(uploads, []byte(f.UploaderID)) {
			if !bytes.Equal(k, day) {
				if err := uploads.Delete(k); err != nil {
					return fmt.Errorf("forget an earlier upload day: %w", err)
				}
			}
		}
		return putUploadedBytes(uploads, day, used+f.Size)
	})
}

// UploadedOn returns how many bytes of userID's uploads were recorded on day
// (backend.UploadDay), 0 for a day without any.
func (s *Store) UploadedOn(ctx context.Context, userID, day string) (int64, error) {
	var n int64
	err := s.view(func(tx *bbolt.Tx) error {
		n = uploadedBytes(tx.Bucket(bucketUploads), concat(userID, day))
		return nil
	})
	return n, err
}

// DeleteFile removes the record of a file that was never processed (its upload was refused
// after it was recorded) and gives its bytes back to its uploader's day. An unknown id is
// ENOTFOUND, a file processed already ECONFLICT. The caller removes the bytes on disk.
func (s *Store) DeleteFile(ctx context.Context, id string) error {
	return s.update(ctx, func(t *txn) error {
		files := t.Bucket(bucketFiles)
		v := files.Get([]byte(id))
		if v == nil {
			return backend.Errorf(backend.ENOTFOUND, "File not found.")
		}
		var f backend.File
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("decode file %s: %w", id, err)
		}
		if f.Status != backend.FileProcessing {
			return backend.Errorf(backend.ECONFLICT, "The file was processed already.")
		}
		if err := files.Delete([]byte(id)); err != nil {
			return fmt.Errorf("delete file %s: %w", id, err)
		}
		uploads := t.Bucket(bucketUploads)
		day := concat(f.UploaderID, backend.UploadDay(time.UnixMilli(f.CreatedAt)))
		if used := uploadedBytes(uploads, day); used > 0 {
			return putUploadedBytes(uploads, day, max(0, used-f.Size))
		}
		return nil
	})
}

func uploadedBytes(b readBucket, key []byte) int64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func putUploadedBytes(b bucket, key []byte, n int64) error {
	if err := b.Put(key, binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
		return fmt.Errorf("count uploaded bytes: %w", err)
	}
	return nil
}

func (s *Store) File(ctx context.Context, id string) (*backend.File, error) {
	f := new(backend.File)
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketFiles).Get([]byte(id))
		if v == nil {
			return backend.Errorf(backend.ENOTFOUND, "File not found.")
		}
		return json.Unmarshal(v, f)
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// UnfinishedFiles returns the files still being processed, oldest first, at most limit of
// them: after a crash, or on a cluster's new writer, the uploads no processor will finish
// unless it is asked again (files.Processor.Resume). It reads every file record: O(files).
func (s *Store) UnfinishedFiles(ctx context.Context, limit int) ([]*backend.File, error) {
	var out []*backend.File
	marker := []byte(`"status":"` + string(backend.FileProcessing) + `"`)
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(out) == limit || !bytes.Contains(v, marker) {
				return nil
			}
			f := new(backend.File)
			if err := json.Unmarshal(v, f); err != nil {
				return fmt.Errorf("decode file %s: %w", k, err)
			}
			if f.Status == backend.FileProcessing {
				out = append(out, f)
			}
			return nil
		})
	})
	return out, err
}

func (s *Store) FinishFile(ctx context.Context, f *backend.File) error {
	return s.update(ctx, func(t *txn) error {
		if t.Bucket(bucketFiles).Get([]byte(f.ID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "File not found.")
		}
		chat, err := getChat(t.Tx, f.ChatID)
		if err != nil {
			return err
		}
		if err := putJSON(t.Bucket(bucketFiles), f.ID, f); err != nil {
			return err
		}
		n := backend.FileProcessedNotification(f)
		notice := backend.Notice{Kind: backend.KindFile, ChatID: f.ChatID, ChatName: chat.Name}
		file := *f
		var processedID string
		if err := t.notifyUser(f.UploaderID, backend.EventFileProcessed, n, notice, func(ev *backend.Event) {
			ev.ChatID, ev.File = f.ChatID, &file
			processedID = ev.ID
		}); err != nil {
			return err
		}
		if f.Status != backend.FileReady || !chat.HasMember(f.UploaderID) || chat.Archived {
			return nil // the uploader left, or the chat was archived, while the file was processed
		}
		if err := t.unhide(chat); err != nil {
			return err
		}
		msg := &backend.Message{ID: t.newID(), ChatID: f.ChatID, AuthorID: f.UploaderID, Content: f.Name,
			CreatedAt: t.now.UnixMilli(), Attachment: &file}
		if err := putMessage(t, msg); err != nil {
			return err
		}
		if err := t.Bucket(bucketTimeline).Put(concat(f.ChatID, msg.ID), nil); err != nil {
			return fmt.Errorf("add to history: %w", err)
		}
		// FILE_PROCESSED names the file and shows its start: deleting the message erases it.
		t.indexEvent(f.ChatID, msg.ID, processedID)
		if err := t.readUpTo(f.UploaderID, f.ChatID, msg.ID); err != nil {
			return err
		}
		return t.emit(&backend.Event{ID: msg.ID, Type: backend.EventNewMessage, ChatID: f.ChatID, Message: msg,
			Recipients: slices.Clone(chat.MemberIDs)})
	})
}
