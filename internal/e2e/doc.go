// Package e2e holds Restore Desk's end-to-end tests: the real web binary in
// several processes against one database, and a headless Chromium driving the
// server that internal/testkit starts. It has no code of its own.
package e2e
