// Package migrations holds the goose SQL migrations, embedded so the binary can
// migrate its database without files on disk.
package migrations

import "embed"

// FS holds every migration, applied in file-name order.
//
//go:embed *.sql
var FS embed.FS
