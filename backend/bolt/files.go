package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

func (s *Store) CreateFile(ctx context.Context, f *backend.File) error {
	return s.update(ctx, func(t *txn) error {
		chat, err := getChat(t.Tx, f.ChatID)
		if err != nil {
			return err
		}
		if !chat.HasMember(f.UploaderID) {
			return backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
		}
		f.ID = t.newID()
		f.Status = backend.FileProcessing
		f.CreatedAt = t.now.UnixMilli()
		return putJSON(t.Bucket(bucketFiles), f.ID, f)
	})
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
		title := f.Name + " is ready"
		if f.Status != backend.FileReady {
			title = f.Name + " could not be processed"
		}
		body := f.Error
		n := backend.Notification{Type: backend.KindFile, Title: title, Body: body, Link: "/chats/" + f.ChatID, ChatID: f.ChatID}
		notice := backend.Notice{Kind: backend.KindFile, ChatID: f.ChatID, ChatName: chat.Name}
		file := *f
		if err := t.notifyUser(f.UploaderID, backend.EventFileProcessed, n, notice, func(ev *backend.Event) {
			ev.ChatID, ev.File = f.ChatID, &file
		}); err != nil {
			return err
		}
		if f.Status != backend.FileReady || !chat.HasMember(f.UploaderID) {
			return nil
		}
		msg := &backend.Message{ID: t.newID(), ChatID: f.ChatID, AuthorID: f.UploaderID, Content: f.Name,
			CreatedAt: t.now.UnixMilli(), Attachment: &file}
		if err := putJSON(t.Bucket(bucketMessages), string(concat(f.ChatID, msg.ID)), msg); err != nil {
			return err
		}
		if err := t.Bucket(bucketReads).Put(concat(f.UploaderID, f.ChatID), []byte(msg.ID)); err != nil {
			return fmt.Errorf("move read marker: %w", err)
		}
		return t.emit(&backend.Event{ID: msg.ID, Type: backend.EventNewMessage, ChatID: f.ChatID, Message: msg,
			Recipients: slices.Clone(chat.MemberIDs)})
	})
}
