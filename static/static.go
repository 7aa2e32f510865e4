// Package static holds the stylesheet, scripts and images, embedded so the
// binary serves them itself, and gives each file a content-hashed URL so
// browsers may cache it for a year.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

// FS holds the static files, under their paths relative to this directory.
//
//go:embed css js img
var FS embed.FS

var versions = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
})

// Path returns the URL of the static file name (such as "css/app.css"), with a
// version parameter that changes whenever the file's content does.
func Path(name string) string {
	if v, ok := versions()[name]; ok {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}

// Version returns the content version of name, or "" if there is no such file.
func Version(name string) string { return versions()[name] }
