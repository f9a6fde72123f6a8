package bolt

// Temporary while issue 10's store methods are written: the tree must compile for the helpers
// that build on the new interface. Removed by the commit that implements them.

import (
	"context"
	"errors"

	"github.com/herald-chat/herald/backend"
)

var errWIP = errors.New("not implemented yet")

func (s *Store) Message(ctx context.Context, chatID, messageID string) (*backend.Message, error) {
	return nil, errWIP
}
func (s *Store) MessagesAround(ctx context.Context, chatID, messageID string, limit int) ([]*backend.Message, bool, bool, error) {
	return nil, false, false, errWIP
}
func (s *Store) Replies(ctx context.Context, chatID, parentID string, page backend.MessagePage) ([]*backend.Message, bool, error) {
	return nil, false, errWIP
}
func (s *Store) EditMessage(ctx context.Context, chatID, messageID, userID, content string) (*backend.Message, error) {
	return nil, errWIP
}
func (s *Store) DeleteMessage(ctx context.Context, chatID, messageID string, by *backend.User) (string, error) {
	return "", errWIP
}
func (s *Store) React(ctx context.Context, chatID, messageID, userID, emoji string, on bool) (*backend.Message, error) {
	return nil, errWIP
}
func (s *Store) Pin(ctx context.Context, chatID, messageID, userID string, on bool) (*backend.Message, error) {
	return nil, errWIP
}
func (s *Store) Pins(ctx context.Context, chatID string) ([]*backend.Message, error) {
	return nil, errWIP
}
