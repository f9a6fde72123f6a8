package search

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/herald-chat/herald/backend"
)

// mappingVersion names the index's layout: the fields, their options and the analyzer. An index
// of another version is rebuilt at Open. Bump it with every change to newMapping or newDocument.
const mappingVersion = "1"

// Field names in the index.
const (
	fieldText    = "text"      // the message's content, analyzed with textAnalyzer; not stored
	fieldChat    = "chatId"    // keyword, stored: a hit names its chat
	fieldAuthor  = "authorId"  // keyword
	fieldCreated = "createdAt" // numeric (Unix ms) with doc values, for ranges and the sort
	fieldSum     = "sum"       // stored only: a hash of the content (contentSum)
)

// textAnalyzer is the analyzer of fieldText: Unicode word segmentation (UAX #29) and lower case,
// no stemming and no stop words. Chat messages are short and multilingual; people search for
// names, identifiers, numbers and exact words, which an English stemmer mangles ("news" and
// "new" become one, "deploy" finds "deployment" only by accident) and stop-word removal breaks
// ("to be or not to be" would be an empty phrase). A prefix ("deploy*") covers inflections
// when wanted. The cost: a somewhat larger dictionary than with stemming.
const textAnalyzer = "herald_text"

// newMapping is the index mapping: no dynamic fields, the message's fields as newDocument builds
// them. Documents are built by hand (newDocument) rather than through the mapping, so that every
// option is explicit; queries use the mapping to find the analyzer of fieldText.
func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, fmt.Errorf("define analyzer: %w", err)
	}
	m.DefaultAnalyzer = textAnalyzer
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false

	doc := bleve.NewDocumentStaticMapping()
	text := bleve.NewTextFieldMapping()
	text.Analyzer, text.Store, text.IncludeInAll, text.DocValues = textAnalyzer, false, false, false
	text.IncludeTermVectors = true // phrases need positions
	doc.AddFieldMappingsAt(fieldText, text)
	for _, f := range []string{fieldChat, fieldAuthor} {
		kw := bleve.NewKeywordFieldMapping()
		kw.Analyzer, kw.Store, kw.IncludeInAll, kw.DocValues, kw.IncludeTermVectors = keyword.Name, f == fieldChat, false, false, false
		doc.AddFieldMappingsAt(f, kw)
	}
	created := bleve.NewNumericFieldMapping()
	created.Store, created.IncludeInAll, created.DocValues = false, false, true
	doc.AddFieldMappingsAt(fieldCreated, created)
	sum := bleve.NewTextFieldMapping()
	sum.Index, sum.Store, sum.IncludeInAll, sum.DocValues = false, true, false, false
	doc.AddFieldMappingsAt(fieldSum, sum)
	m.DefaultMapping = doc
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("validate mapping: %w", err)
	}
	return m, nil
}

// Indexing options of newDocument's fields, as newMapping declares them.
const (
	optText    = index.IndexField | index.IncludeTermVectors
	optChat    = index.IndexField | index.StoreField
	optAuthor  = index.IndexField
	optCreated = index.IndexField | index.DocValues
	optSum     = index.StoreField
)

// newDocument is m's document: its id is the message's, and nothing of its content is stored.
func newDocument(m *backend.Message, text analysis.Analyzer, kw analysis.Analyzer) *document.Document {
	d := document.NewDocument(m.ID)
	d.AddField(document.NewTextFieldCustom(fieldText, nil, []byte(m.Content), optText, text))
	d.AddField(document.NewTextFieldCustom(fieldChat, nil, []byte(m.ChatID), optChat, kw))
	d.AddField(document.NewTextFieldCustom(fieldAuthor, nil, []byte(m.AuthorID), optAuthor, kw))
	d.AddField(document.NewNumericFieldWithIndexingOptions(fieldCreated, nil, float64(m.CreatedAt), optCreated))
	d.AddField(document.NewTextFieldCustom(fieldSum, nil, []byte(contentSum(m)), optSum, kw))
	return d
}

// contentSum tells whether an update changed what the index holds of a message: only its
// content can change (its chat, author and time cannot), so MESSAGE_UPDATEDs for reactions, pins
// and thread counts leave the index alone. It is the FNV-1a hash of the content, hex; the hash
// of a short message could be guessed by trying, which tells no more than the indexed words do,
// and it leaves the index with them.
func contentSum(m *backend.Message) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(m.Content))
	return hex.EncodeToString(h.Sum(nil))
}
