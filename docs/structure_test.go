// Package docs holds the project's documentation. Its test checks that the
// structure architecture.md describes is the structure the code has.
package docs_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "restoredesk"

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

// modulePackages lists the module's packages as go list -deps reports them.
func modulePackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,GoFiles,Imports", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.ImportPath == module || strings.HasPrefix(p.ImportPath, module+"/") {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

func short(path string) string { return strings.TrimPrefix(path, module+"/") }

// graph renders the module's import graph as architecture.md shows it.
func graph(pkgs []pkg) string {
	var b strings.Builder
	for _, p := range pkgs {
		var deps []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") {
				deps = append(deps, short(imp))
			}
		}
		b.WriteString(short(p.ImportPath) + ":")
		for _, d := range deps {
			b.WriteString(" " + d)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestPackageGraphIsDocumented(t *testing.T) {
	got := graph(sorted(modulePackages(t)))
	doc, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```deps\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("architecture.md has no ```deps block")
	}
	if block != got {
		t.Errorf("the package graph in docs/architecture.md differs from go list -deps; it should read:\n%s", got)
	}
}

func sorted(pkgs []pkg) []pkg {
	slices.SortFunc(pkgs, func(a, b pkg) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return pkgs
}

// TestHandlersImports: the HTTP layer reaches neither the demo seed nor the
// simulator, directly or through another package.
func TestHandlersImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./internal/handlers")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, forbidden := range []string{"internal/demo", "internal/jdcloud/jdcloudsim", "internal/app", "internal/e2e", "internal/testkit"} {
		if slices.Contains(strings.Fields(string(out)), module+"/"+forbidden) {
			t.Errorf("internal/handlers depends on %s", forbidden)
		}
	}
}

// sqlLike matches a string that is a SQL statement (or calls a PostgreSQL
// function such as pg_notify or an advisory lock).
var sqlLike = regexp.MustCompile(`(?s)^\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s|LISTEN\s|NOTIFY\s|CREATE\s|DROP\s|ALTER\s|TRUNCATE\s|LOCK\s)|\bpg_\w+\(`)

// sqlHomes are the packages that may hold SQL: storage, and the audit
// chain's own protocol (said in its package doc).
var sqlHomes = []string{"internal/postgres", "internal/audit"}

// TestSQLLivesInPostgres: no string literal outside the SQL homes is a SQL
// statement. Test files are not checked: tests may look at the database.
func TestSQLLivesInPostgres(t *testing.T) {
	fset := token.NewFileSet()
	for _, p := range modulePackages(t) {
		sp := short(p.ImportPath)
		if slices.ContainsFunc(sqlHomes, func(h string) bool { return sp == h || strings.HasPrefix(sp, h+"/") }) {
			continue
		}
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err == nil && sqlLike.MatchString(s) {
					t.Errorf("%s: SQL outside internal/postgres: %.60q", fset.Position(lit.Pos()), s)
				}
				return true
			})
		}
	}
}

// TestAuditDocSaysItHoldsSQL: the exception above is written down where a
// reader of the audit package looks first.
func TestAuditDocSaysItHoldsSQL(t *testing.T) {
	f, err := os.Open("../internal/audit/audit.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var doc strings.Builder
	for sc.Scan() && strings.HasPrefix(sc.Text(), "//") {
		doc.WriteString(sc.Text() + "\n")
	}
	if !strings.Contains(doc.String(), "SQL") {
		t.Errorf("the audit package doc does not say it holds its own SQL:\n%s", doc.String())
	}
}

// TestNoPointersOutside: comments and docs point at files in the
// repository, never at the product contract or notes kept elsewhere.
func TestNoPointersOutside(t *testing.T) {
	cmd := exec.Command("git", "ls-files")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	// The pointers are spelled in pieces so this file does not match itself.
	outside := regexp.MustCompile(strings.Join([]string{"SPEC" + " §", "SPEC" + `\.md`, "API" + `\.md`, "/work/" + "shared"}, "|"))
	for _, name := range strings.Fields(string(out)) {
		if name == "docs/structure_test.go" || strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			continue // deleted in the work tree
		}
		for i, line := range strings.Split(string(b), "\n") {
			if outside.MatchString(line) {
				t.Errorf("%s:%d points outside the repository: %s", name, i+1, strings.TrimSpace(line))
			}
		}
	}
}
