package search

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/herald-chat/herald/backend"
)

// maxCursorLen bounds a cursor a client sends back (bytes): two sort values, the id a ULID.
const maxCursorLen = 256

var _ backend.Searcher = (*Index)(nil)

// Search runs q against the live index: every term (words as terms — a word the analyzer splits,
// "e-mail", as a phrase —, prefixes as a prefix of their last word, phrases as phrases), in one
// of q.ChatIDs, by q.From if set, created strictly between q.After and q.Before when set; newest
// first (createdAt, then id, descending), q.Limit per page (DefaultSearchLimit when 0, at most
// MaxSearchLimit). Hits carry no score: none is computed.
//
// No chats is no hits, without a query. Before the first index is built it is EUNAVAILABLE,
// after Close backend.ErrClosed; a cursor it did not issue is EINVALID.
func (ix *Index) Search(ctx context.Context, q backend.SearchQuery) ([]backend.SearchHit, string, error) {
	limit := q.Limit
	if limit == 0 {
		limit = backend.DefaultSearchLimit
	}
	if limit < 1 || limit > backend.MaxSearchLimit {
		return nil, "", backend.Errorf(backend.EINVALID, "limit must be a number from 1 to %d.", backend.MaxSearchLimit)
	}
	if len(q.Terms) == 0 || len(q.Terms) > backend.MaxSearchTerms {
		return nil, "", backend.Errorf(backend.EINVALID, "A search has 1 to %d words and phrases.", backend.MaxSearchTerms)
	}
	var after []string
	if q.Cursor != "" {
		var err error
		if after, err = decodeCursor(q.Cursor); err != nil {
			return nil, "", err
		}
	}
	if len(q.ChatIDs) == 0 {
		return nil, "", nil
	}
	words, ok := ix.termsQuery(q.Terms)
	if !ok {
		return nil, "", nil // nothing the index could hold
	}
	chats := make([]query.Query, len(q.ChatIDs))
	for i, id := range q.ChatIDs {
		chats[i] = termQuery(fieldChat, id)
	}
	conj := bleve.NewConjunctionQuery(words, bleve.NewDisjunctionQuery(chats...))
	if q.From != "" {
		conj.AddQuery(termQuery(fieldAuthor, q.From))
	}
	if q.Before != 0 || q.After != 0 {
		var lo, hi *float64
		if q.After != 0 {
			v := float64(q.After)
			lo = &v
		}
		if q.Before != 0 {
			v := float64(q.Before)
			hi = &v
		}
		no := false
		r := bleve.NewNumericRangeInclusiveQuery(lo, hi, &no, &no)
		r.SetField(fieldCreated)
		conj.AddQuery(r)
	}
	req := bleve.NewSearchRequestOptions(conj, limit+1, 0, false)
	req.SortBy([]string{"-" + fieldCreated, "-_id"})
	req.SearchAfter = after
	req.Fields = []string{fieldChat}
	req.Score = "none"

	h := ix.acquire()
	if h == nil {
		if ix.ctx.Err() != nil {
			return nil, "", backend.ErrClosed
		}
		return nil, "", backend.Errorf(backend.EUNAVAILABLE, "The search index is being built; try again in a moment.")
	}
	defer h.release()
	res, err := h.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, "", fmt.Errorf("search: %w", err)
	}
	hits := make([]backend.SearchHit, 0, min(limit, len(res.Hits)))
	for _, m := range res.Hits[:min(limit, len(res.Hits))] {
		chat, _ := m.Fields[fieldChat].(string)
		hits = append(hits, backend.SearchHit{MessageID: m.ID, ChatID: chat})
	}
	next := ""
	if len(res.Hits) > limit {
		next = encodeCursor(res.Hits[limit-1].Sort)
	}
	return hits, next, nil
}

// termsQuery is the conjunction of terms, analyzed as the index's text is; ok is false when a
// term has nothing the index could hold (no word survives the analyzer), so nothing matches.
func (ix *Index) termsQuery(terms backend.SearchTerms) (q query.Query, ok bool) {
	conj := bleve.NewConjunctionQuery()
	for _, t := range terms {
		var tokens []string
		for _, tok := range ix.text.Analyze([]byte(t.Text)) {
			tokens = append(tokens, string(tok.Term))
		}
		if len(tokens) == 0 {
			return nil, false
		}
		switch {
		case t.Prefix:
			for _, tok := range tokens[:len(tokens)-1] {
				conj.AddQuery(termQuery(fieldText, tok))
			}
			p := bleve.NewPrefixQuery(tokens[len(tokens)-1])
			p.SetField(fieldText)
			conj.AddQuery(p)
		case len(tokens) == 1:
			conj.AddQuery(termQuery(fieldText, tokens[0]))
		default:
			conj.AddQuery(bleve.NewPhraseQuery(tokens, fieldText))
		}
	}
	return conj, true
}

func termQuery(field, term string) *query.TermQuery {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	return q
}

// A cursor is the sort values of a page's last hit (its createdAt as bleve encodes it and its
// id), JSON in base64url.
func encodeCursor(sort []string) string {
	data, _ := json.Marshal(sort)
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeCursor(s string) ([]string, error) {
	bad := backend.Errorf(backend.EINVALID, "cursor is not one this server issued.")
	if len(s) > maxCursorLen {
		return nil, bad
	}
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var sort []string
	if json.Unmarshal(data, &sort) != nil || len(sort) != 2 {
		return nil, bad
	}
	return sort, nil
}
