package search

import "github.com/blevesearch/bleve/v2"

// SetMappingVersion rewrites the mapping version of the closed index at path, as an index
// written by an older Herald would have it.
func SetMappingVersion(path, version string) error {
	idx, err := bleve.Open(path)
	if err != nil {
		return err
	}
	if err := idx.SetInternal(keyVersion, []byte(version)); err != nil {
		_ = idx.Close()
		return err
	}
	return idx.Close()
}
