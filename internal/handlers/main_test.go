package handlers_test

import (
	"os"
	"testing"

	"restoredesk/internal/postgres/postgrestest"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }
